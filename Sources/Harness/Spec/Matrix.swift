import Contrastive
import Foundation
import ResultsStore

/// One cell of an experiment's matrix: a fully resolved training configuration and its identity.
public struct MatrixCell: Sendable, Equatable {
    /// 0-based position in the matrix.
    public var index: Int
    /// `<train view>/<method>/<regularizer>/seed<seed>`: unique and stable within an experiment
    /// (it does not depend on the order of the spec's lists).
    public var key: String
    public var trainView: String
    public var method: String
    public var regularizer: String
    public var seed: UInt64
    /// The resolved configuration; `data` holds the dataset's identity (`builtin:<hash>` or the
    /// folder path as the spec gives it) until the runner binds it to a folder.
    public var config: TrainConfig
    /// Dataset options beyond the image size (mask format, bad-sample policy).
    public var dataset: ExperimentSpec.DatasetSpec

    /// The document whose canonical JSON is hashed: the dataset and the resolved training config.
    public struct Document: Codable, Sendable, Equatable {
        public var dataset: ExperimentSpec.DatasetSpec
        public var train: TrainConfig
        public var checkpointEverySteps: Int?
    }

    public var checkpointEverySteps: Int?

    public var document: Document { Document(dataset: dataset, train: config, checkpointEverySteps: checkpointEverySteps) }
    /// Canonical JSON (sorted keys) of the fully resolved cell configuration.
    public var configJSON: String { CanonicalJSON.string(document) }
    /// SHA-256 of `configJSON`: a finished cell is skipped only when this matches.
    public var configSHA256: String { CanonicalJSON.sha256(document) }

    /// A directory-safe form of the key (`full/simclr/none/seed0` → `full-simclr-none-seed0`).
    public var directoryName: String { key.replacingOccurrences(of: "/", with: "-") }
}

extension ExperimentSpec {
    /// The identity `TrainConfig.data` carries before the runner binds it to a folder.
    public var datasetIdentity: String {
        dataset.builtin != nil ? "builtin:\(dataset.builtinHash)" : (dataset.folder ?? "")
    }

    /// Expands the matrix: seeds × methods × train views × regularizers, seed-major so that every
    /// condition of seed 0 finishes before seed 1 starts (paired comparisons fill in early).
    public func cells() -> [MatrixCell] {
        var out: [MatrixCell] = []
        for seed in seeds {
            for method in methods {
                for view in trainViews {
                    for reg in regularizers {
                        var c = TrainConfig(data: datasetIdentity)
                        c.imageSize = imageSize
                        c.method = method
                        c.methodOptions = methodOptions[method] ?? MethodOptions()
                        c.regularizer = reg.iclmsr
                        c.trainView = view
                        c.epochs = train.epochs
                        c.batchSize = train.batchSize
                        c.optimizer = optimizer.applied(to: .recipe(for: method))
                        c.seed = seed
                        c.backbone = backbone
                        c.width = width
                        c.preset = train.augmentation
                        c.fill = train.fill
                        c.partnerSeed = partnerSeed
                        c.evaluation = evaluation
                        c = c.resolved(trainImages: nil)
                        out.append(MatrixCell(index: out.count, key: "\(view)/\(method)/\(reg.name)/seed\(seed)", trainView: view,
                                              method: method, regularizer: reg.name, seed: seed, config: c, dataset: dataset,
                                              checkpointEverySteps: train.checkpointEverySteps))
                    }
                }
            }
        }
        return out
    }
}
