import Contrastive
import Evaluation
import Foundation
import ImageData
import NN
import TensorCore

/// Strict decoding of a spec's YAML tree into `ExperimentSpec`: every key is asked for by name,
/// every value type-checked, typed options read by their case names; anything else is a
/// `SpecError` naming the key and its line.
extension ExperimentSpec {
    static func decode(_ r: SpecReader) throws -> ExperimentSpec {
        _ = try r.string("description")
        guard let name = try r.string("name") else { throw r.error("name", "every spec needs a name (it names the experiment in the database)") }
        guard isIdentifier(name) else { throw r.error("name", "use letters, digits, '-', '_' and '.' only, got '\(name)'") }
        var spec = ExperimentSpec(name: name, dataset: try decodeDataset(r))
        if let v = try r.int("imageSize", min: 8) { spec.imageSize = v }
        if let m = try r.map("model") {
            if let v = try m.value("backbone", BackboneArchitecture.self) { spec.model.backbone = v }
            if let v = try m.int("width", min: 1) { spec.model.width = v }
            try m.finish()
        }
        if let v = try r.values("methods", MethodName.self) { spec.methods = v }
        if let m = try r.map("methodOptions") {
            for method in MethodName.allCases {
                guard let o = try m.map(method.rawValue) else { continue }
                spec.methodOptions[method.rawValue] = try decodeMethodOptions(o)
                try o.finish()
            }
            try m.finish()
        }
        var base = ICLMSROptions()
        if let m = try r.map("iclmsr") {
            base = try decodeICLMSR(m, base: base)
            try m.finish()
            do { try base.validate() } catch let e as InvalidOption { throw m.error(e.key, e.message) }
        }
        if let n = r.node("regularizers") {
            spec.regularizers = try decodeRegularizers(n, base: base, methods: spec.methods, reader: r)
        }
        if let v = try r.values("trainViews", TrainingView.self) { spec.trainViews = v; spec.statedKeys.insert("trainViews") }
        if let seeds = try r.strings("seeds") {
            spec.seeds = try seeds.map { s in
                guard let v = UInt64(s), v <= TrainLimits.maxSeed else {
                    throw r.error("seeds", "expected non-negative integers in 0…\(TrainLimits.maxSeed) (2^63−1), got '\(s)'")
                }
                return v
            }
            if spec.seeds.isEmpty { throw r.error("seeds", "the list is empty") }
            if Set(spec.seeds).count != spec.seeds.count { throw r.error("seeds", "lists a seed twice") }
        }
        if let v = try r.values("controls", TrainConfig.Control.self) { spec.controls = v }
        if let t = try r.map("train") {
            if let v = try t.int("epochs", min: 1) { spec.train.epochs = v }
            if let v = try t.int("batchSize", min: 2) { spec.train.batchSize = v }
            if let v = try t.string("augmentation"), v != "default" {
                guard let preset = AugmentationPreset(rawValue: v) else {
                    throw t.error("augmentation", "unknown value '\(v)'; use default, \(names(AugmentationPreset.self))")
                }
                spec.train.augmentation = preset
            }
            if let v = try t.value("fill", BackgroundFill.self) { spec.train.fill = v }
            spec.train.checkpointEverySteps = try t.int("checkpointEverySteps", min: 1)
            try t.finish()
        }
        if let o = try r.map("optimizer") {
            spec.optimizer.kind = try o.value("kind", OptimizerSpec.Kind.self)
            spec.optimizer.lr = try o.float("lr")
            spec.optimizer.momentum = try o.float("momentum")
            spec.optimizer.weightDecay = try o.float("weightDecay")
            spec.optimizer.larsEta = try o.float("larsEta")
            spec.optimizer.larsClip = try o.bool("larsClip")
            spec.optimizer.excludeBiasAndNorm = try o.bool("excludeBiasAndNorm")
            try o.finish()
        }
        if let s = try r.map("schedule") {
            spec.schedule.warmupEpochs = try s.double("warmupEpochs")
            if let v = try s.float("finalLrFraction") { spec.schedule.finalLrFraction = v }
            try s.finish()
        }
        if let e = try r.map("evaluation") {
            spec.evaluation = try decodeEvaluation(e)
            for key in ["testViews", "probeViews"] where e.has(key) { spec.statedKeys.insert("evaluation." + key) }
            try e.finish()
        }
        if let v = try r.uint64("partnerSeed") { spec.partnerSeed = v }
        return spec
    }

    /// Whether `s` can name an experiment or a variant: letters, digits, `-`, `_` and `.`.
    public static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
    }

    static func names<E: CaseIterable & RawRepresentable>(_ type: E.Type) -> String where E.RawValue == String {
        E.allCases.map(\.rawValue).joined(separator: ", ")
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
        if let v = try m.string("maskFormat", oneOf: DatasetSpec.maskFormats) { d.maskFormat = v }
        if let v = try m.value("trimapBoundary", TrimapBoundary.self) { d.trimapBoundary = v }
        if let v = try m.value("onBadSample", BadSamplePolicy.self) { d.onBadSample = v }
        if let v = try m.string("pretrainSplit", oneOf: ["train", DatasetLayout.unlabeledSplit]) { d.pretrainSplit = v == "train" ? nil : v }
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
        if let v = try m.value("prior", ICLMSROptions.Prior.self) { o.prior = v }
        if let v = try m.value("injection", ICLMSROptions.Injection.self) { o.injection = v }
        if let v = try m.float("strataScale") { o.strataScale = v }
        if let v = try m.float("virtualLR") { o.virtualLR = v }
        if let v = try m.float("fdRadius") { o.fdRadius = v }
        if let v = try m.int("metaInterval") { o.metaInterval = v }
        if let v = try m.value("metaGradient", ICLMSROptions.MetaGradient.self) { o.metaGradient = v }
        if let v = try m.value("meta", ICLMSROptions.Meta.self) { o.meta = v }
        if let v = try m.value("form", ICLMSROptions.Form.self) { o.form = v }
        if let v = try m.value("finiteDifference", ICLMSROptions.FiniteDifference.self) { o.finiteDifference = v }
        if let mo = try m.map("metaOptimizer") {
            var meta = o.metaOptimizer
            if let kind = try mo.value("kind", ICLMSROptions.MetaOptimizer.Kind.self), kind != meta.kind {
                // Another kind starts from that kind's defaults.
                meta = ICLMSROptions.MetaOptimizer(kind: kind)
            }
            if let v = try mo.float("lr") { meta.lr = v }
            if let v = try mo.float("momentum") { meta.momentum = v }
            if let v = try mo.float("weightDecay") { meta.weightDecay = v }
            try mo.finish()
            o.metaOptimizer = meta
        }
        return o
    }

    /// - Parameter methods: the spec's methods (a variant's `methods:` must be among them).
    static func decodeRegularizers(_ n: SpecNode, base: ICLMSROptions, methods: [MethodName], reader r: SpecReader) throws -> [RegularizerSpec] {
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
                if s == RegularizerSpec.none.name {
                    out.append(.none)
                } else if s == RegularizerSpec.baseName {
                    out.append(RegularizerSpec(name: s, iclmsr: base))
                } else if let kind = BackgroundIntervention.Kind(rawValue: s) {
                    out.append(RegularizerSpec(name: s, iclmsr: nil, intervention: BackgroundIntervention(kind: kind)))
                } else {
                    throw SpecError(location: item.origin, key: path,
                                    message: "unknown regularizer '\(s)'; use none, icl-msr, background-swap, background-remove, "
                                        + "or a mapping {name: …, kind: …, <options>}")
                }
            case .mapping:
                let m = try SpecReader(item, path: path, origins: r.origins)
                guard let name = try m.string("name"), isIdentifier(name) else {
                    throw m.error("name", "a regularizer variant needs a name of letters, digits, '-', '_', '.' (it goes into cell keys)")
                }
                let kinds = [RegularizerSpec.baseName] + BackgroundIntervention.Kind.allCases.map(\.rawValue)
                let kind = try m.string("kind", oneOf: kinds) ?? RegularizerSpec.baseName
                let only = try m.values("methods", MethodName.self)
                if let missing = only?.first(where: { !methods.contains($0) }) {
                    throw m.error("methods", "'\(missing.rawValue)' is not one of the spec's methods (\(methods.map(\.rawValue).joined(separator: ", ")))")
                }
                if let intervention = BackgroundIntervention.Kind(rawValue: kind) {
                    var o = BackgroundIntervention(kind: intervention)
                    if let p = try m.float("probability") { o.probability = p }
                    if let h = try m.bool("hardNegatives") { o.hardNegatives = h }
                    try m.finish()
                    out.append(RegularizerSpec(name: name, iclmsr: nil, intervention: o, methods: only))
                } else {
                    let o = try decodeICLMSR(m, base: base)
                    try m.finish()
                    out.append(RegularizerSpec(name: name, iclmsr: name == RegularizerSpec.none.name ? nil : o, methods: only))
                }
            case .sequence:
                throw SpecError(location: item.origin, key: path, message: "expected a regularizer name or a mapping, got a list")
            }
            if out.dropLast().contains(where: { $0.name == out.last!.name }) {
                throw SpecError(location: item.origin, key: path, message: "regularizer name '\(out.last!.name)' is used twice")
            }
        }
        if out.isEmpty { throw r.error("regularizers", "the list is empty") }
        return out
    }

    static func decodeEvaluation(_ e: SpecReader) throws -> EvaluationOptions {
        var o = EvaluationOptions()
        if let v = try e.values("testViews", ViewKind.self) { o.testViews = v }
        if e.has("probeView") {
            throw e.error("probeView", "replaced by probeViews, a list of \(ProbeChoice.names.joined(separator: ", ")) (e.g. probeViews: [full, foreground])")
        }
        if let v = try e.strings("probeViews", oneOf: ProbeChoice.names) { o.probeViews = v.compactMap(ProbeChoice.init(name:)) }
        if let k = try e.map("knn") {
            if let v = try k.int("k", min: 1) { o.knn.k = v }
            if let v = try k.float("temperature") { o.knn.temperature = v }
            try k.finish()
        }
        if let p = try e.map("probe") {
            if let v = try p.double("weightDecay") { o.probe.weightDecay = v }
            if let v = try p.int("maxIterations", min: 1) { o.probe.maxIterations = v }
            try p.finish()
        }
        o.epochDiagnostics = try decodeEpochDiagnostics(e)
        if let m = try e.map("testSets") { o.testSets = try decodeTestSets(m) }
        return o
    }

    /// `evaluation.testSets: {<name>: <folder>, …}`: each folder (relative to the working
    /// directory, like `dataset.folder`) is hashed now, so its content is part of every cell's
    /// configuration hash. Sorted by name; an empty mapping is no test set.
    static func decodeTestSets(_ m: SpecReader) throws -> [TestSet]? {
        var sets: [TestSet] = []
        for name in m.keys.sorted() {
            guard let folder = try m.string(name) else { continue }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw m.error(name, "\(folder) is not a folder; give a folder of <class>/<image> (e.g. testsets/in9-mixed-rand written by "
                                  + "`backdrop dataset import in9`), absolute or relative to the working directory")
            }
            let set = TestSet(name: name, folder: folder, sha256: try DatasetFiles.sha256(root: folder))
            do { try set.validate() } catch let e as InvalidOption { throw m.error(name, e.message) }
            sets.append(set)
        }
        try m.finish()
        return sets.isEmpty ? nil : sets
    }
}
