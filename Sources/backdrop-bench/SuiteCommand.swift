import ArgumentParser
import Foundation
import ReferenceWorkloads

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
    @Flag(help: "Run PyTorch with --channels-last (oneDNN NHWC: on this kind of CPU its fastest layout, not the reference's default).")
    var torchChannelsLast = false
    @OptionGroup var timing: TimingOptions

    /// One row's figures over all rounds: each side's images/s is the median of all its repeats
    /// (every round pooled), peak memory the largest of its rounds.
    struct Row: Codable {
        var kind: String, w: Int, res: Int, batch: Int
        /// Backdrop's first round with `images_per_s`, `step_ms` and `gflops` set from the pooled median.
        var backdrop: BenchmarkResult
        var backdropPeakRSSMegabytes: Double
        var backdropRepeats: [Double]
        var torchImagesPerSecond: Double?
        var torchPeakRSSMegabytes: Double?
        var torchRepeats: [Double]
        /// PyTorch's memory layout: `nchw` (the reference's default) or `channels-last`; nil
        /// without PyTorch.
        var torchLayout: String?

        init(kind: String, w: Int, res: Int, batch: Int, backdropRuns: [(BenchmarkResult, Double)], torchRuns: [(ips: [Double], rss: Double)],
             torchLayout: String?) {
            (self.kind, self.w, self.res, self.batch, self.torchLayout) = (kind, w, res, batch, torchLayout)
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
            torchRepeats = torchRuns.flatMap(\.ips)
            torchImagesPerSecond = torchRepeats.isEmpty ? nil : ReferenceBenchmarks.median(torchRepeats)
            torchPeakRSSMegabytes = torchRuns.map(\.rss).max()
        }

        var markdownRow: String {
            func figure(_ x: Double?, _ format: String) -> String { x.map { String(format: format, $0) } ?? "—" }
            func range(_ xs: [Double]) -> String {
                guard let lo = xs.min(), let hi = xs.max() else { return "—" }
                return String(format: "%.0f–%.0f", lo, hi)
            }
            let ratio: Double? = torchImagesPerSecond.map { backdrop.imagesPerSecond / $0 }
            let cells: [String] = [
                "\(kind) \(w):\(res):\(batch)", figure(backdrop.imagesPerSecond, "%.1f"), figure(torchImagesPerSecond, "%.1f"),
                figure(ratio, "%.2f×"), figure(backdrop.gflops, "%.1f"), figure(backdropPeakRSSMegabytes, "%.0f"),
                figure(torchPeakRSSMegabytes, "%.0f"), range(backdropRepeats), range(torchRepeats),
            ]
            return "| " + cells.joined(separator: " | ") + " |"
        }
    }

    func validate() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be ≥ 1, got \(rounds)") }
    }

    func run() throws {
        var rows: [Row] = []
        var specs: [(String, [Int])] = []
        for spec in configs.split(separator: ",") { specs.append(("train", try parse(String(spec), "--configs"))) }
        if !eval.isEmpty { specs.append(("eval", try parse(eval, "--eval"))) }
        for (kind, v) in specs {
            var backdropRuns: [(BenchmarkResult, Double)] = [], torchRuns: [(ips: [Double], rss: Double)] = []
            for _ in 0..<rounds {
                if !torchScript.isEmpty { torchRuns.append(try runTorch(kind: kind, v)) }
                backdropRuns.append(try runBackdrop(kind: kind, v))
            }
            let row = Row(kind: kind, w: v[0], res: v[1], batch: v[2], backdropRuns: backdropRuns, torchRuns: torchRuns,
                          torchLayout: torchScript.isEmpty ? nil : torchChannelsLast ? "channels-last" : "nchw")
            rows.append(row)
            let ratio = row.torchImagesPerSecond.map { String(format: " = %.2f× PyTorch (%.1f images/s)", row.backdrop.imagesPerSecond / $0, $0) } ?? ""
            let line = "\(kind) \(v[0]):\(v[1]):\(v[2]): " + String(format: "%.1f", row.backdrop.imagesPerSecond) + " images/s" + ratio + "\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
        if !torchScript.isEmpty && torchChannelsLast { print("PyTorch ran with --channels-last (NHWC).") }
        print("| row (w:px:batch) | Backdrop images/s | PyTorch images/s | ratio | Backdrop GFLOP/s | Backdrop peak MB | PyTorch peak MB | Backdrop repeats | PyTorch repeats |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows { print(r.markdownRow) }
        if let jsonOut { try Data(try encodeJSON(rows).utf8).write(to: URL(fileURLWithPath: jsonOut)) }
    }

    /// One PyTorch child for the row: its per-repeat images/s and peak memory.
    func runTorch(kind: String, _ v: [Int]) throws -> (ips: [Double], rss: Double) {
        let row = "\(v[0]):\(v[1]):\(v[2])"
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("torch-\(getpid())-\(kind)-\(row).json").path
        defer { try? FileManager.default.removeItem(atPath: json) }
        let args = [torchScript, "--configs", kind == "train" ? row : "", "--eval", kind == "eval" ? row : "", "--json", json] + timing.arguments
            + (torchChannelsLast ? ["--channels-last"] : [])
        let child = try ChildProcess.run(python, args)
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
        let child = try ChildProcess.run(CommandLine.arguments[0], args)
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
