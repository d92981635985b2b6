import Foundation
import ImageData
import ResultsStore

extension MatrixRunner {
    /// Loads the spec, prepares its datasets (one per distinct dataset of its sweep points) and
    /// computes the provenance shared by every cell.
    /// - Parameters:
    ///   - datasetSHA256: the dataset hash computed by the parent (a child process running one cell).
    ///   - onlyCell: prepare only the dataset of this cell's sweep point (a child process).
    public func makeContext(datasetSHA256: String? = nil, onlyCell: String? = nil) throws -> ReproductionContext {
        var spec = try ExperimentSpec.load(path: options.specPath, overrides: options.overrides)
        try FileManager.default.createDirectory(atPath: options.resultsDirectory, withIntermediateDirectories: true)
        let dbFolder = URL(fileURLWithPath: options.databasePath).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: dbFolder.isEmpty ? "." : dbFolder, withIntermediateDirectories: true)
        var datasets: [String: ReproductionContext.PreparedDataset] = [:]
        var first: ReproductionContext.PreparedDataset?
        /// Prepares one (point) spec's dataset and fits its views to the masks it has.
        func prepare(_ point: ExperimentSpec, givenSHA256: String?) throws -> ExperimentSpec {
            let (root, _) = try DatasetFiles.prepare(point.dataset, resultsDirectory: options.resultsDirectory, log: log)
            let maskFormat = try point.dataset.options(size: point.imageSize).maskFormat
            let withoutMasks = try DatasetLayout.scan(root: root).splitsWithoutMasks(maskFormat: maskFormat)
            let fitted = try point.fitted(toSplitsWithoutMasks: withoutMasks, root: options.specPath)
            try fitted.checkTestSets(against: root, location: options.specPath)
            let identity = point.datasetIdentity
            if datasets[identity] == nil {
                datasets[identity] = .init(root: root, sha256: try givenSHA256 ?? DatasetFiles.sha256(root: root))
            }
            if first == nil { first = datasets[identity] }
            return fitted
        }
        // A given hash stands for one dataset: the spec's only one, a child's own cell's, or ""
        // (`--dataset-only`: no hashing). A parent preparing every sweep point hashes each.
        let given = spec.points.isEmpty || onlyCell != nil || datasetSHA256 == "" ? datasetSHA256 : nil
        if spec.points.isEmpty {
            spec = try prepare(spec, givenSHA256: given)
        } else {
            for i in spec.points.indices {
                if let onlyCell, !onlyCell.hasPrefix(spec.points[i].label + "/") { continue }
                spec.points[i].spec = try prepare(spec.points[i].spec, givenSHA256: given)
            }
        }
        guard let first else {
            throw SpecError(location: options.specPath, key: "", message: "the spec has no cell \(onlyCell ?? "")")
        }
        let g = options.revision
        return ReproductionContext(spec: spec, specPath: options.specPath, databasePath: options.databasePath,
                                   resultsDirectory: options.resultsDirectory, datasetRoot: first.root,
                                   sources: RunSources(gitCommit: g.commit, gitDirty: g.dirty, datasetSHA256: first.sha256),
                                   datasets: datasets)
    }

    /// `2 train views × (1 methods × 3 regularizers + untrained controls) × 3 seeds × 4 sweep points`.
    static func shape(of spec: ExperimentSpec) -> String {
        let controls = spec.controls.isEmpty ? "" : " + \(spec.controls.map(\.rawValue).joined(separator: ", ")) controls"
        let points = spec.points.isEmpty ? "" : " × \(spec.points.count) sweep points (\(spec.sweep?.map(\.key).joined(separator: " × ") ?? ""))"
        return "\(spec.trainViews.count) train views × (\(spec.methods.count) methods × \(spec.regularizers.count) regularizers\(controls)) × "
            + "\(spec.seeds.count) seeds\(points)"
    }

    /// `dataset <root> (sha256 …)`, or the number of datasets of a sweep.
    static func describeDatasets(_ context: ReproductionContext) -> String {
        if context.datasets.count == 1 {
            return "dataset \(context.datasetRoot) (sha256 \(context.sources.datasetSHA256.prefix(12)))"
        }
        return "\(context.datasets.count) datasets (" + context.datasets.values.map { URL(fileURLWithPath: $0.root).lastPathComponent }
            .sorted().joined(separator: ", ") + ")"
    }
}
