import Contrastive
import Foundation
import ImageData
import ResultsStore

/// One cell of an experiment's matrix: a fully resolved training configuration and its identity.
public struct MatrixCell: Sendable, Equatable {
    /// 0-based position in the matrix.
    public var index: Int
    /// `<train view>/<method>/<regularizer>/seed<seed>`: unique and stable within an experiment
    /// (it does not depend on the order of the spec's lists).
    public var key: String
    public var trainView: TrainingView
    public var method: MethodName
    public var regularizer: String
    public var seed: UInt64
    /// The resolved configuration; `data` holds the dataset's identity (`builtin:<hash>` or the
    /// folder path as the spec gives it) until the runner binds it to a folder.
    public var config: TrainConfig
    /// Dataset options beyond the image size (mask format, bad-sample policy).
    public var dataset: ExperimentSpec.DatasetSpec
    /// The label of the cell's sweep point (`dataset.builtin.confounding=0.9`); empty without a sweep.
    public var sweep: String = ""

    /// The document whose canonical JSON is hashed: the dataset and the resolved training config.
    public struct Document: Codable, Sendable, Equatable {
        public var dataset: ExperimentSpec.DatasetSpec
        public var train: TrainConfig
    }

    public var document: Document { Document(dataset: dataset, train: config) }
    /// Canonical JSON (sorted keys) of the fully resolved cell configuration.
    public var configJSON: String { CanonicalJSON.string(document) }
    /// SHA-256 of `configJSON`: a finished cell is skipped only when this matches.
    public var configSHA256: String { CanonicalJSON.sha256(document) }

    /// The `method` the store records: the method, or the control's name (`untrained`).
    public var methodLabel: String { config.control?.rawValue ?? method.rawValue }

    /// The cell as the store records it (`runs` columns).
    public var runCell: RunCell {
        RunCell(cellKey: key, dataset: dataset.name, trainView: trainView.rawValue, method: methodLabel, regularizer: regularizer, seed: Int(seed),
                sweep: sweep)
    }

    /// A directory-safe form of the key (`full/simclr/none/seed0` → `full-simclr-none-seed0`).
    public var directoryName: String { key.replacingOccurrences(of: "/", with: "-") }
}

extension ExperimentSpec {
    /// The identity `TrainConfig.data` carries before the runner binds it to a folder.
    public var datasetIdentity: String {
        dataset.builtin != nil ? "builtin:\(dataset.builtinHash)" : (dataset.folder ?? "")
    }

    /// Expands the matrix: seeds × (controls + methods × regularizers) × train views, less the
    /// (method, regularizer) pairs a regularizer's `methods` leaves out; seed-major so
    /// that every condition of seed 0 finishes before seed 1 starts (paired comparisons fill in
    /// early). A control cell (`full/untrained/none/seed0`) evaluates the seed's initial encoder.
    /// With a `sweep:`, the union of every point's cells, each key prefixed with the point's label
    /// (`dataset.builtin.confounding=0.9/full/simclr/none/seed0`), still seed-major.
    public func cells() -> [MatrixCell] {
        if !points.isEmpty {
            var all: [MatrixCell] = []
            for point in points {
                for var cell in point.spec.cells() {
                    cell.key = "\(point.label)/\(cell.key)"
                    cell.sweep = point.label
                    all.append(cell)
                }
            }
            let order = Dictionary(uniqueKeysWithValues: seeds.enumerated().map { ($1, $0) })
            let sorted = all.enumerated().sorted { (order[$0.element.seed] ?? 0, $0.offset) < (order[$1.element.seed] ?? 0, $1.offset) }
            return sorted.enumerated().map { i, entry in
                var cell = entry.element
                cell.index = i
                return cell
            }
        }
        var out: [MatrixCell] = []
        for seed in seeds {
            for control in controls {
                for view in trainViews {
                    var c = cellConfig(method: methods[0], regularizer: .none, view: view, seed: seed)
                    c.control = control
                    out.append(MatrixCell(index: out.count, key: "\(view.rawValue)/\(control.rawValue)/\(RegularizerSpec.none.name)/seed\(seed)",
                                          trainView: view, method: methods[0], regularizer: RegularizerSpec.none.name, seed: seed,
                                          config: c, dataset: dataset))
                }
            }
            for method in methods {
                for view in trainViews {
                    for reg in regularizers where reg.applies(to: method) {
                        let c = cellConfig(method: method, regularizer: reg, view: view, seed: seed)
                        out.append(MatrixCell(index: out.count, key: "\(view.rawValue)/\(method.rawValue)/\(reg.name)/seed\(seed)",
                                              trainView: view, method: method, regularizer: reg.name, seed: seed, config: c, dataset: dataset))
                    }
                }
            }
        }
        return out
    }

    /// The resolved configuration of one cell.
    func cellConfig(method: MethodName, regularizer: RegularizerSpec, view: TrainingView, seed: UInt64) -> TrainConfig {
        var c = TrainConfig(data: datasetIdentity)
        c.imageSize = imageSize
        c.method = method
        c.methodOptions = methodOptions[method.rawValue] ?? MethodOptions()
        c.iclmsr = regularizer.iclmsr
        c.intervention = regularizer.intervention
        c.trainView = view
        c.seed = seed
        c.partnerSeed = partnerSeed
        c.model = model
        c.train = train
        c.optimizer = optimizer.applied(to: method.recipe.optimizer)
        c.schedule = schedule
        c.evaluation = evaluation
        return c.resolved(trainImages: nil)
    }
}
