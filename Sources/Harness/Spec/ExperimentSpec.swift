import Contrastive
import Foundation
import ImageData
import ResultsStore

/// An experiment spec: the only input of a reproduction (`Experiments/*.yaml`).
///
/// A spec names a dataset, the model and training recipe, and the axes of the matrix — train
/// views × methods × regularizers × seeds; `ExperimentSpec.cells()` expands it into one
/// fully resolved `TrainConfig` per cell. The YAML layout (every key optional except `name`):
///
/// ```yaml
/// name: table1-quick
/// dataset:
///   builtin: {classes: 10, perClass: 100, testPerClass: 20, size: 32, confounding: 0.9, seed: 0}
///   # or: folder: path/to/root, maskFormat: binary|soft|trimap|alpha, trimapBoundary: …, onBadSample: fail|skip
/// imageSize: 32
/// model: {backbone: small-resnet, width: 16}
/// methods: [simclr]
/// methodOptions: {simclr: {temperature: 0.2, projectorHidden: 64, projectorOutput: 32}}
/// iclmsr: {strata: 16, weight: 1.0, prior: learned}      # options of every icl-msr regularizer
/// regularizers: [none, icl-msr, {name: icl-msr-K4, strata: 4}]
/// trainViews: [full, foreground]
/// seeds: [0, 1, 2]
/// train: {epochs: 20, batchSize: 128, augmentation: default, fill: gray, checkpointEverySteps: 50}
/// optimizer: {kind: lars, lr: 0.4, weightDecay: 1.0e-5, momentum: 0.9}   # over the method's recipe
/// schedule: {warmupEpochs: 2, finalLrFraction: 0}
/// evaluation: {testViews: [...], probeView: train-view, knn: {k: 20, temperature: 0.07},
///              probe: {weightDecay: 1.0e-4, maxIterations: 1000}}
/// ```
///
/// Unknown keys and bad values are `SpecError`s naming the key and its line.
public struct ExperimentSpec: Codable, Sendable, Equatable {
    public var name: String
    public var dataset: DatasetSpec
    public var imageSize: Int = 32
    public var backbone: String = "small-resnet"
    public var width: Int = 16
    public var methods: [String] = ["simclr"]
    /// Per-method options (keys: method names).
    public var methodOptions: [String: MethodOptions] = [:]
    public var regularizers: [RegularizerSpec] = [.none]
    public var trainViews: [String] = ["full", "foreground"]
    public var seeds: [UInt64] = [0]
    public var train: TrainingSpec = TrainingSpec()
    public var optimizer: OptimizerOverride = OptimizerOverride()
    public var evaluation: TrainConfig.EvaluationSpec = TrainConfig.EvaluationSpec()
    /// Seed of the mixed views' partner tables (the same for every cell).
    public var partnerSeed: UInt64 = 0

    /// Where the dataset comes from.
    public struct DatasetSpec: Codable, Sendable, Equatable {
        /// Generator parameters of the built-in synthetic dataset (written under
        /// `Results/datasets/<hash>/` when absent); nil for a folder dataset.
        public var builtin: SceneParameters?
        /// A dataset folder (`<root>/{train,test}/{images,masks}/<class>/…`).
        public var folder: String?
        public var maskFormat: String = "binary"
        public var trimapBoundary: String = "foreground"
        public var onBadSample: String = "fail"

        /// A short name for the `runs.dataset` column: `builtin-<hash8>` or the folder's name.
        public var name: String {
            if builtin != nil { return "builtin-\(builtinHash.prefix(8))" }
            return URL(fileURLWithPath: folder ?? "").lastPathComponent
        }

        /// SHA-256 of the generator parameters' canonical JSON (names the dataset folder).
        public var builtinHash: String { CanonicalJSON.sha256(builtin) }

        public func options(size: Int) throws -> DatasetOptions {
            DatasetOptions(size: size, maskFormat: try MaskFormat(name: maskFormat, trimapBoundary: TrimapBoundary(rawValue: trimapBoundary) ?? .foreground),
                           onBadSample: BadSamplePolicy(rawValue: onBadSample) ?? .fail)
        }
    }

    /// One value of the regularizer axis: `none`, or ICL-MSR with its options.
    public struct RegularizerSpec: Codable, Sendable, Equatable {
        /// The name used in cell keys and the `runs.regularizer` column (`none`, `icl-msr`, …).
        public var name: String
        /// nil for `none`.
        public var iclmsr: ICLMSROptions?
        public static let none = RegularizerSpec(name: "none", iclmsr: nil)
    }

    /// Length and shape of training.
    public struct TrainingSpec: Codable, Sendable, Equatable {
        public var epochs: Int = 20
        public var batchSize: Int = 128
        /// Augmentation preset; nil: each method's default (EXPERIMENT.md).
        public var augmentation: String? = nil
        public var fill: String = "gray"
        /// Also checkpoint every this many steps inside an epoch (nil: at epoch ends only).
        public var checkpointEverySteps: Int? = nil
    }

    /// Changes to each method's optimizer recipe (`OptimizerSpec.recipe(for:)`); nil fields keep
    /// the recipe's value.
    public struct OptimizerOverride: Codable, Sendable, Equatable {
        public var kind: String?
        public var lr: Float?
        public var momentum: Float?
        public var weightDecay: Float?
        public var larsEta: Float?
        public var larsClip: Bool?
        public var excludeBiasAndNorm: Bool?
        public var warmupEpochs: Double?
        public var finalLrFraction: Float?

        public func applied(to recipe: OptimizerSpec) -> OptimizerSpec {
            var o = recipe
            if let k = kind.flatMap(OptimizerSpec.Kind.init(rawValue:)) { o.kind = k }
            if let lr { o.baseLearningRate = lr }
            if let momentum { o.momentum = momentum }
            if let weightDecay { o.weightDecay = weightDecay }
            if let larsEta { o.larsEta = larsEta }
            if let larsClip { o.larsClip = larsClip }
            if let excludeBiasAndNorm { o.excludeBiasAndNorm = excludeBiasAndNorm }
            if let warmupEpochs { o.warmupEpochs = warmupEpochs }
            if let finalLrFraction { o.finalLearningRateFraction = finalLrFraction }
            return o
        }
    }

    /// The spec as canonical JSON (sorted keys): what `specSHA256` hashes and the store keeps.
    public var canonicalJSON: String { CanonicalJSON.string(self) }
    public var specSHA256: String { CanonicalJSON.sha256(self) }

    // MARK: Loading

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

    /// Parses spec text.
    /// - Parameter source: the name errors use (`table1-quick.yaml` → `table1-quick.yaml:12`).
    public static func parse(_ text: String, source: String, overrides: [String] = []) throws -> ExperimentSpec {
        var root = try SpecNode.parse(text, source: source)
        for o in overrides { root = try root.overriding(o) }
        let origins = SpecReader.OriginIndex(file: source)
        let r = try SpecReader(root, path: "", origins: origins)
        var spec = try decode(r)
        try r.finish()
        spec.methodOptions = spec.methodOptions.filter { spec.methods.contains($0.key) }
        try spec.validateCells(origins: origins)
        return spec
    }

    static let knownMethods = MethodName.allCases.map(\.rawValue)
    static let knownViews = ViewKind.allCases.map(\.rawValue)

    static func decode(_ r: SpecReader) throws -> ExperimentSpec {
        _ = try r.string("description")
        guard let name = try r.string("name") else { throw r.error("name", "every spec needs a name (it names the experiment in the database)") }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw r.error("name", "use letters, digits, '-', '_' and '.' only, got '\(name)'")
        }
        var spec = ExperimentSpec(name: name, dataset: try decodeDataset(r))
        if let v = try r.int("imageSize", min: 8) { spec.imageSize = v }
        if let m = try r.map("model") {
            if let v = try m.string("backbone", oneOf: ["small-resnet", "resnet18"]) { spec.backbone = v }
            if let v = try m.int("width", min: 1) { spec.width = v }
            try m.finish()
        }
        if let v = try r.strings("methods", oneOf: knownMethods) { spec.methods = v }
        if let m = try r.map("methodOptions") {
            for method in knownMethods {
                guard let o = try m.map(method) else { continue }
                spec.methodOptions[method] = try decodeMethodOptions(o)
                try o.finish()
            }
            try m.finish()
        }
        var base = ICLMSROptions()
        if let m = try r.map("iclmsr") {
            base = try decodeICLMSR(m, base: base)
            try m.finish()
            do { try base.validate() } catch let ConfigurationError.invalidOption(option, value, reason) {
                let key = option.hasPrefix("metaOptimizer.learningRate") ? "metaOptimizer.lr" : option
                throw m.error(key, "invalid value \(value): \(reason)")
            }
        }
        if let n = r.node("regularizers") {
            spec.regularizers = try decodeRegularizers(n, base: base, reader: r)
        }
        if let v = try r.strings("trainViews", oneOf: ["full", "foreground"]) { spec.trainViews = v }
        if let seeds = try r.strings("seeds") {
            spec.seeds = try seeds.map { s in
                guard let v = UInt64(s) else { throw r.error("seeds", "expected non-negative integers, got '\(s)'") }
                return v
            }
            if spec.seeds.isEmpty { throw r.error("seeds", "the list is empty") }
            if Set(spec.seeds).count != spec.seeds.count { throw r.error("seeds", "lists a seed twice") }
        }
        if let t = try r.map("train") {
            if let v = try t.int("epochs", min: 1) { spec.train.epochs = v }
            if let v = try t.int("batchSize", min: 2) { spec.train.batchSize = v }
            if let v = try t.string("augmentation", oneOf: ["default"] + AugmentationPreset.allCases.map(\.rawValue)) {
                spec.train.augmentation = v == "default" ? nil : v
            }
            if let v = try t.string("fill", oneOf: BackgroundFill.allCases.map(\.rawValue)) { spec.train.fill = v }
            spec.train.checkpointEverySteps = try t.int("checkpointEverySteps", min: 1)
            try t.finish()
        }
        if let o = try r.map("optimizer") {
            spec.optimizer.kind = try o.string("kind", oneOf: OptimizerSpec.Kind.allCases.map(\.rawValue))
            spec.optimizer.lr = try o.float("lr")
            spec.optimizer.momentum = try o.float("momentum")
            spec.optimizer.weightDecay = try o.float("weightDecay")
            spec.optimizer.larsEta = try o.float("larsEta")
            spec.optimizer.larsClip = try o.bool("larsClip")
            spec.optimizer.excludeBiasAndNorm = try o.bool("excludeBiasAndNorm")
            try o.finish()
        }
        if let s = try r.map("schedule") {
            spec.optimizer.warmupEpochs = try s.double("warmupEpochs")
            spec.optimizer.finalLrFraction = try s.float("finalLrFraction")
            try s.finish()
        }
        if let e = try r.map("evaluation") {
            if let v = try e.strings("testViews", oneOf: knownViews) { spec.evaluation.testViews = v }
            if let v = try e.string("probeView", oneOf: ["train-view"] + knownViews) { spec.evaluation.probeView = v == "train-view" ? nil : v }
            if let k = try e.map("knn") {
                if let v = try k.int("k", min: 1) { spec.evaluation.knnK = v }
                if let v = try k.float("temperature") { spec.evaluation.knnTemperature = v }
                try k.finish()
            }
            if let p = try e.map("probe") {
                if let v = try p.double("weightDecay") { spec.evaluation.probeWeightDecay = v }
                if let v = try p.int("maxIterations", min: 1) { spec.evaluation.probeMaxIterations = v }
                try p.finish()
            }
            try e.finish()
        }
        if let v = try r.uint64("partnerSeed") { spec.partnerSeed = v }
        return spec
    }

    static func decodeDataset(_ r: SpecReader) throws -> DatasetSpec {
        var d = DatasetSpec()
        guard let m = try r.map("dataset") else { d.builtin = SceneParameters(); return d }
        if let b = try m.map("builtin") {
            var p = SceneParameters()
            if let v = try b.int("classes") { p.classes = v }
            if let v = try b.int("backgrounds") { p.backgrounds = v }
            if let v = try b.int("perClass") { p.perClass = v }
            if let v = try b.int("testPerClass") { p.testPerClass = v }
            if let v = try b.int("size") { p.size = v }
            if let v = try b.double("confounding") { p.confounding = v }
            if let v = try b.uint64("seed") { p.seed = v }
            try b.finish()
            do { try p.validate() } catch let ImageDataError.invalidParameter(name, value, fix) {
                throw b.error(name, "invalid value \(value): \(fix)")
            }
            d.builtin = p
        } else if m.has("builtin") {
            d.builtin = SceneParameters()
        }
        d.folder = try m.string("folder")
        if let v = try m.string("maskFormat", oneOf: ["binary", "soft", "trimap", "alpha"]) { d.maskFormat = v }
        if let v = try m.string("trimapBoundary", oneOf: TrimapBoundary.allCases.map(\.rawValue)) { d.trimapBoundary = v }
        if let v = try m.string("onBadSample", oneOf: BadSamplePolicy.allCases.map(\.rawValue)) { d.onBadSample = v }
        try m.finish()
        if (d.builtin == nil) == (d.folder == nil) {
            throw m.error(d.builtin == nil ? "" : "folder", "give exactly one of `builtin:` (generator parameters) or `folder:` (a dataset root)")
        }
        return d
    }

    static func decodeMethodOptions(_ o: SpecReader) throws -> MethodOptions {
        MethodOptions(temperature: try o.float("temperature"), projectorHidden: try o.int("projectorHidden"),
                      projectorOutput: try o.int("projectorOutput"), predictorHidden: try o.int("predictorHidden"),
                      queueSize: try o.int("queueSize"), emaBase: try o.float("emaBase"), emaFinal: try o.float("emaFinal"),
                      lambda: try o.float("lambda"), scale: try o.float("scale"))
    }

    static func decodeICLMSR(_ m: SpecReader, base: ICLMSROptions) throws -> ICLMSROptions {
        var o = base
        if let v = try m.int("strata") { o.strata = v }
        if let v = try m.float("weight") { o.weight = v }
        if let v = try m.string("prior", oneOf: ICLMSROptions.Prior.allCases.map(\.rawValue)) { o.prior = .init(rawValue: v)! }
        if let v = try m.string("injection", oneOf: ICLMSROptions.Injection.allCases.map(\.rawValue)) { o.injection = .init(rawValue: v)! }
        if let v = try m.float("strataScale") { o.strataScale = v }
        if let v = try m.float("virtualLR") { o.virtualLR = v }
        if let v = try m.float("fdRadius") { o.fdRadius = v }
        if let v = try m.int("metaInterval") { o.metaInterval = v }
        if let v = try m.string("metaGradient", oneOf: ICLMSROptions.MetaGradient.allCases.map(\.rawValue)) { o.metaGradient = .init(rawValue: v)! }
        if let mo = try m.map("metaOptimizer") {
            let kind = try mo.string("kind", oneOf: ["sgd", "adam"])
            let lr = try mo.float("lr"), momentum = try mo.float("momentum"), wd = try mo.float("weightDecay")
            try mo.finish()
            switch (kind, o.metaOptimizer) {
            case ("adam", .adam(let lr0, let wd0)), (nil, .adam(let lr0, let wd0)):
                if momentum != nil { throw mo.error("momentum", "applies only to the sgd meta optimizer") }
                o.metaOptimizer = .adam(learningRate: lr ?? lr0, weightDecay: wd ?? wd0)
            case ("adam", .sgd):
                if momentum != nil { throw mo.error("momentum", "applies only to the sgd meta optimizer") }
                guard case let .adam(lr0, wd0) = ICLMSROptions.MetaOptimizer.adam() else { break }
                o.metaOptimizer = .adam(learningRate: lr ?? lr0, weightDecay: wd ?? wd0)
            case (_, .sgd(let lr0, let m0, let wd0)):
                o.metaOptimizer = .sgd(learningRate: lr ?? lr0, momentum: momentum ?? m0, weightDecay: wd ?? wd0)
            case ("sgd", .adam):
                guard case let .sgd(lr0, m0, wd0) = ICLMSROptions.MetaOptimizer.sgd() else { break }
                o.metaOptimizer = .sgd(learningRate: lr ?? lr0, momentum: momentum ?? m0, weightDecay: wd ?? wd0)
            default: break
            }
        }
        return o
    }

    static func decodeRegularizers(_ n: SpecNode, base: ICLMSROptions, reader r: SpecReader) throws -> [RegularizerSpec] {
        let items: [SpecNode]
        switch n {
        case .sequence(let s, _): items = s
        case .scalar: items = [n]
        case .mapping: throw r.error("regularizers", "expected a list such as [none, icl-msr]")
        }
        var out: [RegularizerSpec] = []
        for (i, item) in items.enumerated() {
            let path = "regularizers[\(i)]"
            r.origins.byPath[path] = item.origin
            switch item {
            case let .scalar(s, _, _):
                switch s {
                case "none": out.append(.none)
                case "icl-msr": out.append(RegularizerSpec(name: "icl-msr", iclmsr: base))
                default:
                    throw SpecError(location: item.origin, key: path,
                                    message: "unknown regularizer '\(s)'; use none, icl-msr, or a mapping {name: …, <icl-msr options>}")
                }
            case .mapping:
                let m = try SpecReader(item, path: path, origins: r.origins)
                guard let name = try m.string("name"), !name.isEmpty,
                      name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                    throw m.error("name", "an icl-msr variant needs a name of letters, digits, '-', '_', '.' (it goes into cell keys)")
                }
                let o = try decodeICLMSR(m, base: base)
                try m.finish()
                out.append(RegularizerSpec(name: name, iclmsr: name == "none" ? nil : o))
            case .sequence:
                throw SpecError(location: item.origin, key: path, message: "expected none, icl-msr or a mapping, got a list")
            }
            if out.dropLast().contains(where: { $0.name == out.last!.name }) {
                throw SpecError(location: item.origin, key: path, message: "regularizer name '\(out.last!.name)' is used twice")
            }
        }
        if out.isEmpty { throw r.error("regularizers", "the list is empty") }
        return out
    }

    /// Builds every cell's configuration once so that a bad value (a negative temperature, an
    /// option that does not apply to the method, …) is reported now, naming the spec key.
    func validateCells(origins: SpecReader.OriginIndex) throws {
        for cell in cells() {
            do { try cell.config.validate() } catch let e as TrainConfig.Invalid {
                let key = Self.specKey(forOption: e.option, method: cell.method, regularizer: cell.regularizer, spec: self)
                throw SpecError(location: origins.locate(key), key: key, message: e.message)
            }
        }
    }

    /// The spec key of a `TrainConfig.Invalid` option (`--epochs` → `train.epochs`).
    static func specKey(forOption option: String, method: String, regularizer: String, spec: ExperimentSpec) -> String {
        let fixed = ["--method": "methods", "--train-view": "trainViews", "--epochs": "train.epochs", "--batch-size": "train.batchSize",
                     "--width": "model.width", "--backbone": "model.backbone", "--image-size": "imageSize",
                     "--preset": "train.augmentation", "--fill": "train.fill", "--lr": "optimizer.lr",
                     "--weight-decay": "optimizer.weightDecay", "--momentum": "optimizer.momentum",
                     "--warmup-epochs": "schedule.warmupEpochs", "--probe-view": "evaluation.probeView",
                     "--test-views": "evaluation.testViews", "--knn-k": "evaluation.knn.k",
                     "--knn-temperature": "evaluation.knn.temperature", "--probe-weight-decay": "evaluation.probe.weightDecay",
                     "--probe-iterations": "evaluation.probe.maxIterations"]
        if let k = fixed[option] { return k }
        if option.hasPrefix("optimizer.") { return option }
        if option.hasPrefix("--msr-") {
            let i = spec.regularizers.firstIndex { $0.name == regularizer } ?? 0
            let field = camel(String(option.dropFirst(6)))
            let special = ["metaLr": "metaOptimizer.lr", "metaMomentum": "metaOptimizer.momentum", "metaWeightDecay": "metaOptimizer.weightDecay"]
            let name = special[field] ?? field
            return spec.regularizers[i].name == "icl-msr" ? "iclmsr.\(name)" : "regularizers[\(i)].\(name)"
        }
        return "methodOptions.\(method).\(camel(String(option.dropFirst(2))))"
    }

    /// `strata-scale` → `strataScale`.
    static func camel(_ s: String) -> String {
        var out = "", upper = false
        for ch in s {
            if ch == "-" { upper = true } else { out += upper ? ch.uppercased() : String(ch); upper = false }
        }
        return out
    }
}
