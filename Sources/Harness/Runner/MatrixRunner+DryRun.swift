import Foundation
import ResultsStore

extension MatrixRunner {
    /// What `run()` would do, without doing it: the resolved spec and each cell as `run`, `reuse`,
    /// `resume` or `done` (see `MatrixPlan`). The database is only read (opened read-only, and not
    /// at all when it does not exist yet); datasets are prepared as for a run (a built-in dataset
    /// absent from `Results/datasets/` is generated), because a cell's identity includes its
    /// dataset's hash.
    public func dryRun() throws -> String {
        let context = try makeContext()
        let spec = context.spec
        let exists = FileManager.default.fileExists(atPath: options.databasePath)
        let store = exists ? try ResultsDatabase(path: options.databasePath, mode: .readOnly) : nil
        let experiment = try store?.experiments().last { $0.name == spec.name && $0.specSHA256 == spec.specSHA256 }
        let cells = selectedCells(of: spec)
        let plan = try MatrixPlan(cells: cells, experimentID: experiment?.id, store: store, context: context)
        let c = plan.counts
        var out = "# resolved spec (canonical JSON, sha256 \(spec.specSHA256))\n\(Self.prettyJSON(spec.canonicalJSON))\n"
        if !options.overrides.isEmpty { out += "# overrides: \(options.overrides.joined(separator: " "))\n" }
        out += "# experiment \(spec.name): " + (experiment.map { "id \($0.id) (exists)" } ?? "new") + "; database \(options.databasePath)"
            + (exists ? "" : " (does not exist yet)") + "\n"
        out += "# \(cells.count) cells (\(Self.shape(of: spec))\(options.shard.map { "; shard \($0) of \(spec.cells().count)" } ?? "")): \(c.run) to run, \(c.resume) to resume, \(c.reuse) to reuse, \(c.done) done\n"
        out += plan.listing
        return out
    }

    static func prettyJSON(_ text: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return text }
        return String(decoding: data, as: UTF8.self)
    }
}
