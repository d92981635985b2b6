import ArgumentParser
import Foundation
import ReferenceWorkloads
import TensorCore

/// `backdrop-bench suite`: Backdrop and PyTorch alternated row by row.
struct Suite: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Backdrop and the PyTorch reference side by side, row by row, each in its own process.",
        discussion: """
        For every row the PyTorch script runs first, then Backdrop, each as a child process whose
        peak resident memory is read from the kernel (wait4), and this alternation repeats --rounds
        times. Each side's figure is the median of all its timed repeats. Alternating rounds keep
        both sides under the same machine conditions even when a shared machine's speed drifts by
        tens of percent within minutes; compare ratios, not absolute figures, across runs.
        """)
    @Option(help: "w:res:batch training rows.") var configs = "32:32:256,32:32:128,16:32:256,32:64:128"
    @Option(help: "w:res:batch of the eval row ('' to skip).") var eval = "32:32:512"
    @Option(help: "The PyTorch reference script ('' to run Backdrop alone).") var torchScript = "scripts/torch_ref.py"
    @Option(help: "Python interpreter with torch installed.") var python = "python3"
    @Option(help: "Write every figure as JSON here.") var jsonOut: String?
    @Option(help: "Rounds per row: PyTorch then Backdrop, repeated; each side's repeats are pooled.") var rounds = 2
    @Option(help: """
        PyTorch memory layouts to compare against, each in its own child per round: nchw (the reference's default),         channels-last (oneDNN NHWC, its fastest on these CPUs).
        """)
    var torchLayouts = "nchw,channels-last"
    @Option(help: """
        Force Backdrop's convolution kernels (BACKDROP_KERNELS: avx512-winograd, avx512, avx2, blas). With avx2, PyTorch is limited to         AVX2 too (ATEN_CPU_CAPABILITY=avx2, ONEDNN_MAX_CPU_ISA=AVX2): the AVX2 comparison on an AVX-512 machine.
        """)
    var kernels: String?
    @OptionGroup var timing: TimingOptions

    /// PyTorch's figures in one layout over all rounds.
    struct TorchSide: Codable {
        var layout: String
        var imagesPerSecond: Double
        var peakRSSMegabytes: Double
        var repeats: [Double]
    }

    /// One row's figures over all rounds: each side's images/s is the median of all its repeats
    /// (every round pooled), peak memory the largest of its rounds.
    struct Row: Codable {
        var kind: String, w: Int, res: Int, batch: Int
        /// Backdrop's first round with `images_per_s`, `step_ms` and `gflops` set from the pooled median.
        var backdrop: BenchmarkResult
        var backdropPeakRSSMegabytes: Double
        var backdropRepeats: [Double]
        /// One entry per PyTorch layout, in `--torch-layouts` order; empty without PyTorch.
        var torch: [TorchSide]
        /// PyTorch's CPU limit (`avx2` with `--kernels avx2`), nil when unlimited.
        var torchLimitedTo: String?

        init(kind: String, w: Int, res: Int, batch: Int, backdropRuns: [(BenchmarkResult, Double)],
             torchRuns: [String: [(ips: [Double], rss: Double)]], layouts: [String], torchLimitedTo: String?) {
            (self.kind, self.w, self.res, self.batch, self.torchLimitedTo) = (kind, w, res, batch, torchLimitedTo)
            backdropRepeats = backdropRuns.flatMap { $0.0.repeats }
            var b = backdropRuns[0].0
            let pooled = ReferenceBenchmarks.median(backdropRepeats)
            if b.imagesPerSecond > 0 {
                let scale = pooled / b.imagesPerSecond
                b.gflops *= scale
                b.stepMilliseconds /= scale
            }
            b.imagesPerSecond = pooled
            backdrop = b
            backdropPeakRSSMegabytes = backdropRuns.map(\.1).max() ?? 0
            torch = layouts.compactMap { layout in
                guard let runs = torchRuns[layout], !runs.isEmpty else { return nil }
                let repeats = runs.flatMap(\.ips)
                return TorchSide(layout: layout, imagesPerSecond: ReferenceBenchmarks.median(repeats),
                                 peakRSSMegabytes: runs.map(\.rss).max() ?? 0, repeats: repeats)
            }
        }

        static func header(layouts: [String]) -> String {
            let torch = layouts.flatMap { ["PyTorch \($0) images/s", "ratio"] }
            let cells = ["row (w:px:batch)", "Backdrop images/s"] + torch + ["Backdrop GFLOP/s", "Backdrop peak MB", "PyTorch peak MB",
                                                                            "Backdrop repeats"] + layouts.map { "PyTorch \($0) repeats" }
            return "| " + cells.joined(separator: " | ") + " |\n|" + String(repeating: "---|", count: cells.count)
        }

        var markdownRow: String {
            func range(_ xs: [Double]) -> String {
                guard let lo = xs.min(), let hi = xs.max() else { return "—" }
                return String(format: "%.0f–%.0f", lo, hi)
            }
            let torchCells = torch.flatMap { [String(format: "%.1f", $0.imagesPerSecond), String(format: "%.2f×", backdrop.imagesPerSecond / $0.imagesPerSecond)] }
            let cells: [String] = ["\(kind) \(w):\(res):\(batch)", String(format: "%.1f", backdrop.imagesPerSecond)] + torchCells + [
                String(format: "%.1f", backdrop.gflops), String(format: "%.0f", backdropPeakRSSMegabytes),
                torch.map(\.peakRSSMegabytes).max().map { String(format: "%.0f", $0) } ?? "—", range(backdropRepeats),
            ] + torch.map { range($0.repeats) }
            return "| " + cells.joined(separator: " | ") + " |"
        }
    }

    /// The layouts to run, validated.
    var layouts: [String] {
        get throws {
            if torchScript.isEmpty { return [] }
            let list = torchLayouts.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            for layout in list where !["nchw", "channels-last"].contains(layout) {
                throw ValidationError("--torch-layouts: unknown layout '\(layout)'; use nchw, channels-last or both (comma-separated)")
            }
            guard !list.isEmpty else { throw ValidationError("--torch-layouts is empty; give nchw, channels-last or both, or --torch-script '' for Backdrop alone") }
            return list
        }
    }

    /// The forced kernel path, validated against this CPU.
    var kernelPath: ConvolutionKernelPath? {
        get throws {
            guard let kernels else { return nil }
            do { return try ConvolutionKernelPath.resolve(kernels) } catch let error as InvalidOption {
                throw ValidationError("--kernels: \(error.message)")
            }
        }
    }

    /// Environment of the Backdrop children.
    var backdropEnvironment: [String: String] {
        get throws { try kernelPath.map { [ConvolutionKernelPath.environmentVariable: $0.rawValue] } ?? [:] }
    }

    /// Environment of the PyTorch children: limited to AVX2 when Backdrop is.
    var torchEnvironment: [String: String] {
        get throws { try kernelPath == .avx2 ? ["ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"] : [:] }
    }

    func validate() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be ≥ 1, got \(rounds)") }
        _ = try layouts
        _ = try kernelPath
    }

    func run() throws {
        var rows: [Row] = []
        var specs: [(String, [Int])] = []
        for spec in configs.split(separator: ",") { specs.append(("train", try parse(String(spec), "--configs"))) }
        if !eval.isEmpty { specs.append(("eval", try parse(eval, "--eval"))) }
        let layouts = try layouts
        let limited = try kernelPath == .avx2 ? "avx2" : nil
        for (kind, v) in specs {
            var backdropRuns: [(BenchmarkResult, Double)] = [], torchRuns: [String: [(ips: [Double], rss: Double)]] = [:]
            for _ in 0..<rounds {
                for layout in layouts { torchRuns[layout, default: []].append(try runTorch(kind: kind, v, layout: layout)) }
                backdropRuns.append(try runBackdrop(kind: kind, v))
            }
            let row = Row(kind: kind, w: v[0], res: v[1], batch: v[2], backdropRuns: backdropRuns, torchRuns: torchRuns,
                          layouts: layouts, torchLimitedTo: limited)
            rows.append(row)
            let ratios = row.torch.map { String(format: " = %.2f× PyTorch %@ (%.1f images/s)", row.backdrop.imagesPerSecond / $0.imagesPerSecond, $0.layout, $0.imagesPerSecond) }
            let line = "\(kind) \(v[0]):\(v[1]):\(v[2]): " + String(format: "%.1f", row.backdrop.imagesPerSecond) + " images/s"
                + ratios.joined(separator: ",") + "\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
        print("Backdrop kernels: \(rows.first?.backdrop.kernels ?? "?")" + (limited.map { "; PyTorch limited to \($0) (ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA)" } ?? ""))
        print(Row.header(layouts: layouts))
        for r in rows { print(r.markdownRow) }
        if let jsonOut { try Data(try encodeJSON(rows).utf8).write(to: URL(fileURLWithPath: jsonOut)) }
    }

    /// One PyTorch child for the row: its per-repeat images/s and peak memory.
    func runTorch(kind: String, _ v: [Int], layout: String) throws -> (ips: [Double], rss: Double) {
        let row = "\(v[0]):\(v[1]):\(v[2])"
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("torch-\(getpid())-\(kind)-\(row)-\(layout).json").path
        defer { try? FileManager.default.removeItem(atPath: json) }
        let args = [torchScript, "--configs", kind == "train" ? row : "", "--eval", kind == "eval" ? row : "", "--json", json] + timing.arguments
            + (layout == "channels-last" ? ["--channels-last"] : [])
        let child = try ChildProcess.run(python, args, environment: try torchEnvironment)
        guard child.status == 0 else { throw ValidationError("\(python) \(torchScript) failed for row \(row) (exit \(child.status)); is torch installed? (pip install torch)") }
        guard let ips = try TorchFigures(path: json).repeats(name: kind, w: v[0], res: v[1], batch: v[2]) else {
            throw ValidationError("\(torchScript) wrote no figures for \(kind) row \(row) in \(json)")
        }
        return (ips, child.peakRSSMegabytes)
    }

    /// One Backdrop child for the row.
    func runBackdrop(kind: String, _ v: [Int]) throws -> (BenchmarkResult, Double) {
        let sub = kind == "train" ? "simclr-step" : "eval-features"
        let args = [sub, "--width", "\(v[0])", "--size", "\(v[1])", "--batch", "\(v[2])", "--json"] + timing.arguments
        let child = try ChildProcess.run(CommandLine.arguments[0], args, environment: try backdropEnvironment)
        guard child.status == 0, let r = try? JSONDecoder().decode(BenchmarkResult.self, from: Data(child.output.utf8)) else {
            throw ValidationError("backdrop-bench \(sub) failed for row \(v[0]):\(v[1]):\(v[2]) (exit \(child.status)): \(child.output)")
        }
        return (r, child.peakRSSMegabytes)
    }

    func parse(_ spec: String, _ option: String) throws -> [Int] {
        let v = spec.split(separator: ":").compactMap { Int($0) }
        guard v.count == 3, v.allSatisfy({ $0 > 0 }) else { throw ValidationError("\(option): '\(spec)' is not w:res:batch with positive integers") }
        return v
    }
}

/// Figures read from `torch_ref.py --json`.
struct TorchFigures {
    let train: [[String: Any]], eval: [String: Any]?
    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path),
              let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ValidationError("cannot read \(path) as torch_ref.py --json output")
        }
        train = obj["train"] as? [[String: Any]] ?? []
        eval = obj["eval"] as? [String: Any]
    }
    /// The row's images/s of every timed repeat, as the script reports them.
    func repeats(name: String, w: Int, res: Int, batch: Int) -> [Double]? {
        let rows = name == "eval" ? (eval.map { [$0] } ?? []) : train
        guard let row = rows.first(where: { ($0["w"] as? Int) == w && ($0["res"] as? Int) == res && ($0["batch"] as? Int) == batch }),
              let ips = row["images_per_s"] as? [Double], !ips.isEmpty else { return nil }
        return ips
    }
}
