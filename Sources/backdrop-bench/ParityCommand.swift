import ArgumentParser
import Foundation
import ReferenceWorkloads

/// `backdrop-bench parity`: the PyTorch parity replay of a `torch_ref.py --dump` directory.
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
