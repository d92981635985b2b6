import ArgumentParser
import Foundation
import ReferenceWorkloads

/// Reference workloads for performance and PyTorch parity (see BENCHMARKS.md).
@main
struct BackdropBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backdrop-bench",
        abstract: "Reference workloads: PyTorch parity and throughput benchmarks.",
        subcommands: [Parity.self, SimCLRStepCommand.self, EvalFeatures.self, Suite.self])
}

struct Parity: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a torch_ref.py --dump directory and compare every tensor (exit 1 on any mismatch).")
    @Argument(help: "Directory written by `python3 scripts/torch_ref.py --dump DIR`.") var directory: String
    @Option(help: "Relative tolerance (max |ours − torch| / max |torch|).") var relTolerance: Float = 1e-4
    @Option(help: "Absolute tolerance that also passes an entry.") var absTolerance: Float = 1e-6
    @Flag(help: "Print only failing rows and the summary.") var quiet = false

    func run() throws {
        let dump = try ParityDump(directory: URL(fileURLWithPath: directory))
        var check = ParityCheck()
        check.relTolerance = relTolerance; check.absTolerance = absTolerance
        let rows = try check.run(dump)
        let c = dump.config
        print("parity: w=\(c.w) res=\(c.res) batch=\(c.batch) out_dim=\(c.out_dim) seed=\(c.seed); tolerance rel \(relTolerance), abs \(absTolerance)")
        print(pad("tensor", 52) + pad("shape", 18) + pad("max abs", 12) + pad("rel", 12) + "ok")
        for r in rows where !quiet || !r.passed {
            print(pad(r.name, 52) + pad("\(r.shape)", 18) + pad(String(format: "%.2e", r.maxAbsError), 12)
                  + pad(String(format: "%.2e", r.relError), 12) + (r.passed ? "yes" : "NO"))
        }
        let failed = rows.filter { !$0.passed }
        let worst = rows.max { $0.relError < $1.relError }
        print("\(rows.count - failed.count)/\(rows.count) tensors within tolerance; worst rel \(String(format: "%.2e", worst?.relError ?? 0)) (\(worst?.name ?? "-"))")
        if !failed.isEmpty { throw ExitCode(1) }
    }
}

/// The timing protocol shared by every benchmark command (the same as torch_ref.py's).
struct TimingOptions: ParsableArguments {
    @Option(help: "Untimed steps first.") var warmup = 3
    @Option(help: "Timed steps per repeat.") var steps = 10
    @Option(help: "Repeats; the median is reported.") var repeats = 3
    var benchmarkProtocol: BenchmarkProtocol { .init(warmup: warmup, steps: steps, repeats: repeats) }
    var arguments: [String] { ["--warmup", "\(warmup)", "--steps", "\(steps)", "--repeats", "\(repeats)"] }
}

struct SimCLRStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "simclr-step", abstract: "Time the reference SimCLR training step.")
    @Option var width = 32
    @Option var size = 32
    @Option var batch = 256
    @OptionGroup var timing: TimingOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let r = try ReferenceBenchmarks.simclrStep(width: width, size: size, batch: batch, protocol: timing.benchmarkProtocol,
                                                   progress: json ? nil : { print($0) })
        print(json ? try encodeJSON(r) : describe(r))
    }
}

struct EvalFeatures: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval-features", abstract: "Time eval-mode backbone feature extraction.")
    @Option var width = 32
    @Option var size = 32
    @Option var batch = 512
    @OptionGroup var timing: TimingOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let r = try ReferenceBenchmarks.evalFeatures(width: width, size: size, batch: batch, protocol: timing.benchmarkProtocol)
        print(json ? try encodeJSON(r) : describe(r))
    }
}

struct Suite: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Backdrop and the PyTorch reference side by side, row by row, each in its own process.",
        discussion: """
        For every row the PyTorch script runs first, then Backdrop, each as a child process whose
        peak resident memory is read from the kernel (wait4). Interleaving keeps both sides under the
        same machine conditions; compare ratios, not absolute figures, across runs.
        """)
    @Option(help: "w:res:batch training rows.") var configs = "32:32:256,32:32:128,16:32:256,32:64:128"
    @Option(help: "w:res:batch of the eval row ('' to skip).") var eval = "32:32:512"
    @Option(help: "The PyTorch reference script ('' to run Backdrop alone).") var torchScript = "scripts/torch_ref.py"
    @Option(help: "Python interpreter with torch installed.") var python = "python3"
    @Option(help: "Write every figure as JSON here.") var jsonOut: String?
    @OptionGroup var timing: TimingOptions

    struct Row: Codable {
        var kind: String, w: Int, res: Int, batch: Int
        var backdrop: BenchmarkResult
        var backdropPeakRSSMegabytes: Double
        var torchImagesPerSecond: Double?
        var torchPeakRSSMegabytes: Double?
    }

    func run() throws {
        var rows: [Row] = []
        var specs: [(String, [Int])] = []
        for spec in configs.split(separator: ",") { specs.append(("train", try parse(String(spec), "--configs"))) }
        if !eval.isEmpty { specs.append(("eval", try parse(eval, "--eval"))) }
        let me = CommandLine.arguments[0]
        let timing = self.timing.arguments
        for (kind, v) in specs {
            let row = "\(v[0]):\(v[1]):\(v[2])"
            var torchIPS: Double?, torchRSS: Double?
            if !torchScript.isEmpty {
                let json = FileManager.default.temporaryDirectory.appendingPathComponent("torch-\(getpid())-\(kind)-\(row).json").path
                let args = [torchScript, "--configs", kind == "train" ? row : "", "--eval", kind == "eval" ? row : "", "--json", json] + timing
                let child = try ChildProcess.run(python, args)
                guard child.status == 0 else { throw ValidationError("\(python) \(torchScript) failed for row \(row) (exit \(child.status)); is torch installed? (pip install torch)") }
                let figures = try TorchFigures(path: json)
                torchIPS = figures.imagesPerSecond(name: kind, w: v[0], res: v[1], batch: v[2])
                torchRSS = child.peakRSSMegabytes
                try? FileManager.default.removeItem(atPath: json)
            }
            let sub = kind == "train" ? "simclr-step" : "eval-features"
            let child = try ChildProcess.run(me, [sub, "--width", "\(v[0])", "--size", "\(v[1])", "--batch", "\(v[2])", "--json"] + timing)
            guard child.status == 0, let r = try? JSONDecoder().decode(BenchmarkResult.self, from: Data(child.output.utf8)) else {
                throw ValidationError("backdrop-bench \(sub) failed for row \(row) (exit \(child.status)): \(child.output)")
            }
            rows.append(Row(kind: kind, w: v[0], res: v[1], batch: v[2], backdrop: r, backdropPeakRSSMegabytes: child.peakRSSMegabytes,
                            torchImagesPerSecond: torchIPS, torchPeakRSSMegabytes: torchRSS))
            let ratio = torchIPS.map { String(format: " = %.2f× PyTorch (%.1f images/s)", r.imagesPerSecond / $0, $0) } ?? ""
            FileHandle.standardError.write(Data("\(kind) \(row): \(String(format: "%.1f", r.imagesPerSecond)) images/s\(ratio)\n".utf8))
        }
        print("| row (w:px:batch) | Backdrop images/s | PyTorch images/s | ratio | Backdrop GFLOP/s | Backdrop peak MB | PyTorch peak MB |")
        print("|---|---|---|---|---|---|---|")
        for r in rows {
            let f = { (x: Double?, fmt: String) in x.map { String(format: fmt, $0) } ?? "—" }
            print("| \(r.kind) \(r.w):\(r.res):\(r.batch) | \(f(r.backdrop.imagesPerSecond, "%.1f")) | \(f(r.torchImagesPerSecond, "%.1f")) | \(f(r.torchImagesPerSecond.map { r.backdrop.imagesPerSecond / $0 }, "%.2f×")) | \(f(r.backdrop.gflops, "%.1f")) | \(f(r.backdropPeakRSSMegabytes, "%.0f")) | \(f(r.torchPeakRSSMegabytes, "%.0f")) |")
        }
        if let jsonOut { try Data(try encodeJSON(rows).utf8).write(to: URL(fileURLWithPath: jsonOut)) }
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
    /// Median images/s of the row, as the script reports it.
    func imagesPerSecond(name: String, w: Int, res: Int, batch: Int) -> Double? {
        let rows = name == "eval" ? (eval.map { [$0] } ?? []) : train
        guard let row = rows.first(where: { ($0["w"] as? Int) == w && ($0["res"] as? Int) == res && ($0["batch"] as? Int) == batch }),
              let ips = row["images_per_s"] as? [Double], !ips.isEmpty else { return nil }
        return ReferenceBenchmarks.median(ips)
    }
}

func encodeJSON<T: Encodable>(_ value: T) throws -> String {
    let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
    return String(decoding: try e.encode(value), as: UTF8.self)
}

func describe(_ r: BenchmarkResult) -> String {
    String(format: "%@ w=%d res=%d batch=%d: %.1f images/s, step %.0f ms, %.1f GFLOP/s, peak RSS %.0f MB",
           r.name, r.width, r.size, r.batch, r.imagesPerSecond, r.stepMilliseconds, r.gflops, r.peakRSSMegabytes)
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
