import Contrastive
import Evaluation
import Foundation
import ImageData
import NN
import ResultsStore
import TensorCore

/// An experiment spec: the only input of a reproduction (`Experiments/*.yaml`).
///
/// A spec names a dataset, the model and training recipe, and the axes of the matrix — train
/// views × methods × regularizers × seeds; `ExperimentSpec.cells()` expands it into one
/// fully resolved `TrainConfig` per cell. Its keys are `TrainConfig`'s keys, so `--set key=value`
/// (of `backdrop reproduce` and `backdrop train`), stored configurations and error messages use
/// one language. The YAML layout (every key optional except `name`):
///
/// ```yaml
/// name: table1-quick
/// dataset:
///   builtin: {classes: 10, perClass: 100, testPerClass: 20, size: 32, confounding: 0.9, seed: 0}
///   # or: folder: path/to/root, maskFormat: binary|soft|trimap|alpha, trimapBoundary: …, onBadSample: fail|skip,
///   #     pretrainSplit: train|unlabeled (the split the encoder trains on; probes use train)
/// imageSize: 32
/// model: {backbone: small-resnet, width: 16}
/// methods: [simclr]
/// methodOptions: {simclr: {temperature: 0.2, projectorHidden: 64, projectorOutput: 32}}
/// iclmsr: {strata: 16, weight: 1.0, prior: learned, metaOptimizer: {kind: sgd, lr: 1.0e-3}}  # every icl-msr regularizer
/// regularizers: [none, icl-msr, {name: icl-msr-K4, strata: 4}, background-swap,
///                {name: bg-remove-p0.2, kind: background-remove, probability: 0.2}]
/// trainViews: [full, foreground]
/// seeds: [0, 1, 2]
/// controls: [untrained]            # the seed-matched untrained encoder, evaluated the same way
/// sweep: {dataset.builtin.confounding: [0.5, 0.9], iclmsr.weight: [0.1, 1]}   # more axes over any scalar key
/// train: {epochs: 20, batchSize: 128, augmentation: default, fill: gray, checkpointEverySteps: 50}
/// optimizer: {kind: lars, lr: 0.4, weightDecay: 1.0e-5, momentum: 0.9}   # over the method's recipe
/// schedule: {warmupEpochs: 2, finalLrFraction: 0}
/// evaluation: {testViews: [...], probeViews: [train-view, full, foreground], knn: {k: 20, temperature: 0.07},
///              probe: {weightDecay: 1.0e-4, maxIterations: 1000},
///              testSets: {in9-mixed-rand: data/in9/testsets/in9-mixed-rand}}   # named folders <set>/<class>/<image>
/// ```
///
/// Unknown keys and bad values are `SpecError`s naming the key and its line
/// (`ExperimentSpec+Decoding.swift`).
public struct ExperimentSpec: Codable, Sendable, Equatable {
    public var name: String
    public var dataset: DatasetSpec
    public var imageSize: Int = 32
    public var model = TrainConfig.ModelOptions()
    public var methods: [MethodName] = [.simclr]
    /// Per-method options (keys: method names).
    public var methodOptions: [String: MethodOptions] = [:]
    public var regularizers: [RegularizerSpec] = [.none]
    public var trainViews: [TrainingView] = [.full, .foreground]
    public var seeds: [UInt64] = [0]
    /// Control cells measured beside the methods (`controls: [untrained]`).
    public var controls: [TrainConfig.Control] = []
    public var train = TrainConfig.TrainingOptions()
    public var optimizer = OptimizerOverride()
    public var schedule = ScheduleSpec()
    public var evaluation = EvaluationOptions()
    /// Seed of the mixed views' partner tables (the same for every cell).
    public var partnerSeed: UInt64 = 0
    /// The view keys (`ExperimentSpec.viewKeys`) the spec or its overrides stated; not part of
    /// the stored spec (it changes no cell), used by `fitted(toSplitsWithoutMasks:root:)`.
    public var statedKeys: Set<String> = []
    /// The sweep axes (`ExperimentSpec+Sweep.swift`); nil without a `sweep:` (so a spec without
    /// one keeps its canonical JSON and hash).
    public var sweep: [SweepAxis]? = nil
    /// One spec per sweep point (empty without a sweep); not stored (the axes and the base spec
    /// determine them).
    public var points: [SweepPoint] = []
    /// The stated claims (`ExperimentSpec+Claims.swift`), selectors resolved; nil without `claims:`.
    public var claims: [Claim]? = nil

    enum CodingKeys: String, CodingKey {
        case name, dataset, imageSize, model, methods, methodOptions, regularizers, trainViews, seeds, controls, train, optimizer,
             schedule, evaluation, partnerSeed, sweep, claims
    }

    public init(name: String, dataset: DatasetSpec) {
        self.name = name
        self.dataset = dataset
    }

    /// Where the dataset comes from.
    public struct DatasetSpec: Codable, Sendable, Equatable {
        /// Generator parameters of the built-in synthetic dataset (written under
        /// `Results/datasets/<hash>/` when absent); nil for a folder dataset.
        public var builtin: SceneParameters?
        /// A dataset folder (`<root>/{train,test}/{images,masks}/<class>/…`).
        public var folder: String?
        /// `binary`, `soft`, `trimap` or `alpha` (`MaskFormat(name:)`).
        public var maskFormat: String = "binary"
        public var trimapBoundary: TrimapBoundary = .foreground
        public var onBadSample: BadSamplePolicy = .fail
        /// The split the encoder trains on (`unlabeled`: STL-10's unlabeled images); nil: `train`.
        /// The probes are fitted on `train` and tested on `test` either way.
        public var pretrainSplit: String? = nil

        public init() {}

        /// The mask formats `maskFormat` may name.
        public static let maskFormats = ["binary", "soft", "trimap", "alpha"]

        /// A short name for the `runs.dataset` column: `builtin-<hash8>` or the folder's name.
        public var name: String {
            if builtin != nil { return "builtin-\(builtinHash.prefix(8))" }
            return URL(fileURLWithPath: folder ?? "").lastPathComponent
        }

        /// SHA-256 of the generator parameters' canonical JSON (names the dataset folder).
        public var builtinHash: String { CanonicalJSON.sha256(builtin) }

        public func options(size: Int) throws -> DatasetOptions {
            DatasetOptions(size: size, maskFormat: try MaskFormat(name: maskFormat, trimapBoundary: trimapBoundary), onBadSample: onBadSample,
                           pretrainSplit: pretrainSplit)
        }
    }

    /// One value of the regularizer axis: `none`, ICL-MSR with its options, or a background
    /// intervention (`background-swap`, `background-remove`: the interventional baselines).
    public struct RegularizerSpec: Codable, Sendable, Equatable {
        /// The name used in cell keys and the `runs.regularizer` column (`none`, `icl-msr`, …).
        public var name: String
        /// ICL-MSR's options; nil for `none` and the interventions.
        public var iclmsr: ICLMSROptions?
        /// The background intervention; nil for `none` and ICL-MSR.
        public var intervention: BackgroundIntervention? = nil
        /// The methods this regularizer is trained with (`methods:` of a variant mapping, each one
        /// of the spec's methods); `nil`: every method. Cells of the other methods are not in the
        /// matrix (same-background hard negatives exist only for methods with negatives).
        public var methods: [MethodName]? = nil

        /// Whether the matrix has cells of `method` with this regularizer.
        public func applies(to method: MethodName) -> Bool { methods?.contains(method) ?? true }
        public static let none = RegularizerSpec(name: "none", iclmsr: nil)
        /// The name of the regularizer that takes the `iclmsr:` options as they are.
        public static let baseName = "icl-msr"
    }

    /// Changes to each method's optimizer recipe (`MethodName.recipe`); nil fields keep the
    /// recipe's value. Keys: `OptimizerSpec`'s.
    public struct OptimizerOverride: Codable, Sendable, Equatable {
        public var kind: OptimizerSpec.Kind?
        public var lr: Float?
        public var momentum: Float?
        public var weightDecay: Float?
        public var larsEta: Float?
        public var larsClip: Bool?
        public var excludeBiasAndNorm: Bool?

        public init() {}

        public func applied(to recipe: OptimizerSpec) -> OptimizerSpec {
            var o = recipe
            if let kind { o.kind = kind }
            if let lr { o.baseLearningRate = lr }
            if let momentum { o.momentum = momentum }
            if let weightDecay { o.weightDecay = weightDecay }
            if let larsEta { o.larsEta = larsEta }
            if let larsClip { o.larsClip = larsClip }
            if let excludeBiasAndNorm { o.excludeBiasAndNorm = excludeBiasAndNorm }
            return o
        }
    }

    /// The spec as canonical JSON: what `specSHA256` hashes and the store keeps.
    public var canonicalJSON: String { CanonicalJSON.string(self) }
    public var specSHA256: String { CanonicalJSON.sha256(self) }

    /// Reads a spec file and applies `--set` overrides.
    /// - Parameters:
    ///   - path: the YAML file.
    ///   - overrides: `key.path=value` assignments, applied in order.
    /// - Throws: `SpecError` naming the file, line and key.
    public static func load(path: String, overrides: [String] = []) throws -> ExperimentSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SpecError(location: path, key: "", message: "cannot read the spec file")
        }
        return try parse(String(decoding: data, as: UTF8.self), source: URL(fileURLWithPath: path).lastPathComponent, overrides: overrides)
    }

    /// Parses spec text, applies the overrides, and checks every cell's configuration.
    /// - Parameter source: the name errors use (`table1-quick.yaml` → `table1-quick.yaml:12`).
    public static func parse(_ text: String, source: String, overrides: [String] = []) throws -> ExperimentSpec {
        var root = try SpecNode.parse(text, source: source)
        for o in overrides { root = try root.overriding(o) }
        let origins = SpecReader.OriginIndex(file: source)
        let rootReader = try SpecReader(root, path: "", origins: origins)
        let axes = try decodeSweepAxes(root: root, reader: rootReader)
        func decodeChecked(_ tree: SpecNode) throws -> ExperimentSpec {
            let r = try SpecReader(tree, path: "", origins: origins)
            var spec = try decode(r)
            spec.claims = try decodeClaims(r, spec: spec, axes: axes)
            spec.methodOptions = spec.methodOptions.filter { key, _ in spec.methods.contains { $0.rawValue == key } }
            try r.finish()
            return spec
        }
        var spec = try decodeChecked(root.removingKey("sweep"))
        spec.points = try decodeSweepPoints(axes, root: root, reader: rootReader) { tree in
            let point = try decodeChecked(tree)
            try point.validateCells(origins: origins)
            return point
        }
        if axes.isEmpty {
            try spec.validateCells(origins: origins)
        } else {
            spec.sweep = axes
        }
        return spec
    }

    /// Checks every cell's configuration once so that a bad value (a negative temperature, an
    /// option that does not apply to the method, …) is reported now, naming the spec key.
    func validateCells(origins: SpecReader.OriginIndex) throws {
        for cell in cells() {
            do { try cell.config.validate() } catch let e as InvalidOption {
                let key = specKey(of: e.key, in: cell)
                throw SpecError(location: origins.locate(key), key: key, message: e.message)
            }
        }
    }

    /// Where a cell configuration's key is written in the spec: a cell's `methodOptions` are
    /// the spec's `methodOptions.<method>`, and its `iclmsr` options those of its regularizer
    /// (`iclmsr` for `icl-msr`, else `regularizers[i]`); every other key is the same.
    func specKey(of key: String, in cell: MatrixCell) -> String {
        let (head, rest) = key.firstIndex(of: ".").map { (String(key[..<$0]), String(key[key.index(after: $0)...])) } ?? (key, "")
        switch head {
        case "methodOptions": return "methodOptions.\(cell.method.rawValue).\(rest)"
        case "iclmsr" where cell.regularizer != RegularizerSpec.baseName, "intervention":
            let i = regularizers.firstIndex { $0.name == cell.regularizer } ?? 0
            return "regularizers[\(i)].\(rest)"
        default: return key
        }
    }
}
