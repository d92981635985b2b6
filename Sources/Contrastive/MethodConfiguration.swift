import NN
import TensorCore

/// A configuration that cannot be trained, reported before training starts.
public enum ConfigurationError: Error, CustomStringConvertible, Equatable {
    case unknownMethod(String)
    case invalidOption(option: String, value: String, reason: String)
    case unsupportedBackbone(String)

    public var description: String {
        switch self {
        case .unknownMethod(let m):
            return "method: unknown method '\(m)'; choose one of \(MethodName.allCases.map(\.rawValue).joined(separator: ", "))"
        case let .invalidOption(option, value, reason):
            return "option '\(option)': invalid value \(value): \(reason)"
        case .unsupportedBackbone(let t):
            return "backbone: cannot build an EMA copy of \(t); pass the target network to the method's initializer"
        }
    }
}

/// The five methods.
public enum MethodName: String, Sendable, Codable, CaseIterable {
    case simclr, mocov2, byol, simsiam, barlowtwins
}

/// Options of a method. `nil` means the method's default, scaled to the backbone width `F`
/// (solo-learn's ResNet-18 recipes, F = 512, written as multiples of F):
///
/// | method | projector | predictor | other |
/// |---|---|---|---|
/// | simclr | 4F → F/2 | — | temperature 0.2 |
/// | mocov2 | 4F → F/2 (no BN) | — | temperature 0.2, queue 4096, EMA 0.99 → 0.999 |
/// | byol | 8F → F/2 | 8F | EMA 0.99 → 1.0 |
/// | simsiam | 4F → 4F (3 layers) | F | — |
/// | barlowtwins | 4F → 4F (3 layers) | — | λ 0.0051, scale 0.1 |
///
/// An option that does not apply to the chosen method is rejected (it would silently be ignored).
public struct MethodOptions: Sendable, Equatable, Codable {
    public var temperature: Float?
    public var projectorHidden: Int?
    public var projectorOutput: Int?
    public var predictorHidden: Int?
    /// MoCo v2's queue length (scale it to the dataset: at most the number of training images).
    public var queueSize: Int?
    /// EMA τ at the first and last step (BYOL, MoCo v2).
    public var emaBase: Float?
    public var emaFinal: Float?
    /// Barlow Twins' off-diagonal weight λ and loss scale.
    public var lambda: Float?
    public var scale: Float?
    /// The training batch size, validated (≥ 2) when given.
    public var batchSize: Int?

    public init(temperature: Float? = nil, projectorHidden: Int? = nil, projectorOutput: Int? = nil, predictorHidden: Int? = nil,
                queueSize: Int? = nil, emaBase: Float? = nil, emaFinal: Float? = nil, lambda: Float? = nil, scale: Float? = nil,
                batchSize: Int? = nil) {
        (self.temperature, self.projectorHidden, self.projectorOutput, self.predictorHidden) = (temperature, projectorHidden, projectorOutput, predictorHidden)
        (self.queueSize, self.emaBase, self.emaFinal, self.lambda, self.scale, self.batchSize) = (queueSize, emaBase, emaFinal, lambda, scale, batchSize)
    }

    /// Checks every given option against `method`; throws naming the first bad one.
    public func validate(for method: MethodName) throws {
        func bad(_ option: String, _ value: Any, _ reason: String) -> ConfigurationError {
            .invalidOption(option: option, value: "\(value)", reason: reason)
        }
        let applies: [MethodName: Set<String>] = [
            .simclr: ["temperature", "projectorHidden", "projectorOutput"],
            .mocov2: ["temperature", "projectorHidden", "projectorOutput", "queueSize", "emaBase", "emaFinal"],
            .byol: ["projectorHidden", "projectorOutput", "predictorHidden", "emaBase", "emaFinal"],
            .simsiam: ["projectorHidden", "projectorOutput", "predictorHidden"],
            .barlowtwins: ["projectorHidden", "projectorOutput", "lambda", "scale"],
        ]
        let given: [(String, Any?)] = [("temperature", temperature), ("projectorHidden", projectorHidden), ("projectorOutput", projectorOutput),
                                       ("predictorHidden", predictorHidden), ("queueSize", queueSize), ("emaBase", emaBase),
                                       ("emaFinal", emaFinal), ("lambda", lambda), ("scale", scale)]
        for (name, value) in given {
            guard let value else { continue }
            if !applies[method]!.contains(name) { throw bad(name, value, "does not apply to \(method.rawValue)") }
        }
        if let b = batchSize, b < 2 { throw bad("batchSize", b, "a contrastive batch needs at least 2 images") }
        if let t = temperature, !(t.isFinite && t > 0) { throw bad("temperature", t, "must be finite and > 0") }
        for (name, v) in [("projectorHidden", projectorHidden), ("projectorOutput", projectorOutput), ("predictorHidden", predictorHidden), ("queueSize", queueSize)] {
            if let v, v < 1 { throw bad(name, v, "must be at least 1") }
        }
        for (name, v) in [("emaBase", emaBase), ("emaFinal", emaFinal)] {
            if let v, !(v >= 0 && v <= 1) { throw bad(name, v, "EMA τ must lie in [0, 1]") }
        }
        if let l = lambda, !(l.isFinite && l >= 0) { throw bad("lambda", l, "must be finite and ≥ 0") }
        if let s = scale, !(s.isFinite && s > 0) { throw bad("scale", s, "must be finite and > 0") }
    }
}

/// Builds a method by name with validated options.
///
/// - Parameters:
///   - name: `simclr`, `mocov2`, `byol`, `simsiam` or `barlowtwins`.
///   - backbone: the encoder (the method owns it from now on). Methods with an EMA target
///     build a copy of it (`SmallResNet` and `ResNet18` are supported).
///   - options: `nil` fields take the defaults of `MethodOptions`.
///   - seed: initialization seed of the heads (and of MoCo's initial queue).
/// - Throws: `ConfigurationError` naming the unknown method or the invalid option.
public func makeMethod(name: String, backbone: any Backbone, options: MethodOptions = .init(), seed: UInt64) throws -> any ContrastiveMethod {
    guard let method = MethodName(rawValue: name.lowercased()) else { throw ConfigurationError.unknownMethod(name) }
    try options.validate(for: method)
    let f = backbone.featureDimension
    let o = options
    switch method {
    case .simclr:
        return SimCLR(backbone: backbone, projectorHidden: o.projectorHidden ?? 4 * f, projectorOutput: o.projectorOutput ?? max(f / 2, 1),
                      temperature: o.temperature ?? 0.2, seed: seed)
    case .mocov2:
        return try MoCoV2(backbone: backbone, projectorHidden: o.projectorHidden ?? 4 * f, projectorOutput: o.projectorOutput ?? max(f / 2, 1),
                          temperature: o.temperature ?? 0.2, queueSize: o.queueSize ?? 4096,
                          emaBase: o.emaBase ?? 0.99, emaFinal: o.emaFinal ?? 0.999, seed: seed)
    case .byol:
        return try BYOL(backbone: backbone, projectorHidden: o.projectorHidden ?? 8 * f, projectorOutput: o.projectorOutput ?? max(f / 2, 1),
                        predictorHidden: o.predictorHidden ?? 8 * f, emaBase: o.emaBase ?? 0.99, emaFinal: o.emaFinal ?? 1.0, seed: seed)
    case .simsiam:
        return SimSiam(backbone: backbone, projectorHidden: o.projectorHidden ?? 4 * f, projectorOutput: o.projectorOutput ?? 4 * f,
                       predictorHidden: o.predictorHidden ?? f, seed: seed)
    case .barlowtwins:
        return BarlowTwins(backbone: backbone, projectorHidden: o.projectorHidden ?? 4 * f, projectorOutput: o.projectorOutput ?? 4 * f,
                           lambda: o.lambda ?? 0.0051, scale: o.scale ?? 0.1, seed: seed)
    }
}

/// Builds the stepper of a run: `PlainStepper` without a regularizer, `ICLMSRStepper` with one.
/// - Parameters: regularizer: `nil` for `--regularizer none`; seed: the strata's seed.
public func makeTrainingStepper(method: any ContrastiveMethod, optimizer: any Optimizer, regularizer: ICLMSROptions?, seed: UInt64) throws -> any TrainingStepper {
    guard let regularizer else { return PlainStepper(method: method, optimizer: optimizer) }
    return try ICLMSRStepper(method: method, optimizer: optimizer, options: regularizer, seed: seed)
}
