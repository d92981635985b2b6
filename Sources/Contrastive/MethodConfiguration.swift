import ImageData
import NN
import TensorCore

/// A backbone a method cannot use, reported before training starts.
public enum ConfigurationError: Error, CustomStringConvertible, Equatable {
    case unsupportedBackbone(String)

    public var description: String {
        switch self {
        case .unsupportedBackbone(let t):
            return "backbone: cannot build an EMA copy of \(t); pass the target network to the method's initializer"
        }
    }
}

/// The five methods (`methods:` in a spec, `--method` of `backdrop train`).
public enum MethodName: String, Sendable, Codable, CaseIterable {
    case simclr, mocov2, byol, simsiam, barlowtwins

    /// The method's training recipe (next to each method's definition).
    public var recipe: MethodRecipe {
        switch self {
        case .simclr: return SimCLR.recipe
        case .mocov2: return MoCoV2.recipe
        case .byol: return BYOL.recipe
        case .simsiam: return SimSiam.recipe
        case .barlowtwins: return BarlowTwins.recipe
        }
    }

    /// Whether the loss has negatives (SimCLR's batch, MoCo v2's queue), so same-background hard
    /// negatives can join them (`HardNegativeContrastiveMethod`).
    public var hasNegatives: Bool { self == .simclr || self == .mocov2 }

    /// The options that apply to this method (`MethodOptions` keys); any other is refused.
    var applicableOptions: Set<MethodOptions.CodingKeys> {
        switch self {
        case .simclr: return [.temperature, .projectorHidden, .projectorOutput]
        case .mocov2: return [.temperature, .projectorHidden, .projectorOutput, .queueSize, .emaBase, .emaFinal]
        case .byol: return [.projectorHidden, .projectorOutput, .predictorHidden, .emaBase, .emaFinal]
        case .simsiam: return [.projectorHidden, .projectorOutput, .predictorHidden]
        case .barlowtwins: return [.projectorHidden, .projectorOutput, .lambda, .scale]
        }
    }
}

/// What a method trains with unless a configuration says otherwise: solo-learn's CIFAR optimizer
/// recipe (rates per 256 images) and the method's augmentation preset (EXPERIMENT.md). The head
/// widths are the defaults of each method's `init(backbone:options:seed:)`.
public struct MethodRecipe: Sendable, Equatable {
    public var optimizer: OptimizerSpec
    public var augmentation: AugmentationPreset

    public init(optimizer: OptimizerSpec, augmentation: AugmentationPreset) {
        self.optimizer = optimizer
        self.augmentation = augmentation
    }
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
/// Keys (spec `methodOptions.<method>.<key>`): the property names.
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

    public init(temperature: Float? = nil, projectorHidden: Int? = nil, projectorOutput: Int? = nil, predictorHidden: Int? = nil,
                queueSize: Int? = nil, emaBase: Float? = nil, emaFinal: Float? = nil, lambda: Float? = nil, scale: Float? = nil) {
        (self.temperature, self.projectorHidden, self.projectorOutput, self.predictorHidden) = (temperature, projectorHidden, projectorOutput, predictorHidden)
        (self.queueSize, self.emaBase, self.emaFinal, self.lambda, self.scale) = (queueSize, emaBase, emaFinal, lambda, scale)
    }

    enum CodingKeys: String, CodingKey {
        case temperature, projectorHidden, projectorOutput, predictorHidden, queueSize, emaBase, emaFinal, lambda, scale
    }

    /// Checks every given option against `method`.
    /// - Throws: `InvalidOption` naming the first bad option by its key (`temperature`).
    public func validate(for method: MethodName) throws {
        func bad(_ key: CodingKeys, _ value: Any, _ reason: String) -> InvalidOption {
            InvalidOption(key: key.rawValue, value: value, reason: reason)
        }
        let given: [(CodingKeys, Any?)] = [(.temperature, temperature), (.projectorHidden, projectorHidden), (.projectorOutput, projectorOutput),
                                           (.predictorHidden, predictorHidden), (.queueSize, queueSize), (.emaBase, emaBase),
                                           (.emaFinal, emaFinal), (.lambda, lambda), (.scale, scale)]
        for (key, value) in given {
            guard let value else { continue }
            if !method.applicableOptions.contains(key) { throw bad(key, value, "does not apply to \(method.rawValue)") }
        }
        if let t = temperature, !(t.isFinite && t > 0) { throw bad(.temperature, t, "must be finite and > 0") }
        for (key, v) in [(CodingKeys.projectorHidden, projectorHidden), (.projectorOutput, projectorOutput), (.predictorHidden, predictorHidden), (.queueSize, queueSize)] {
            if let v, v < 1 { throw bad(key, v, "must be at least 1") }
        }
        for (key, v) in [(CodingKeys.emaBase, emaBase), (.emaFinal, emaFinal)] {
            if let v, !(v >= 0 && v <= 1) { throw bad(key, v, "EMA τ must lie in [0, 1]") }
        }
        if let l = lambda, !(l.isFinite && l >= 0) { throw bad(.lambda, l, "must be finite and ≥ 0") }
        if let s = scale, !(s.isFinite && s > 0) { throw bad(.scale, s, "must be finite and > 0") }
    }
}

/// Builds a method with validated options.
///
/// - Parameters:
///   - name: the method.
///   - backbone: the encoder (the method owns it from now on). Methods with an EMA target
///     build a copy of it (`SmallResNet` and `ResNet18` are supported).
///   - options: `nil` fields take the method's defaults (its `init(backbone:options:seed:)`).
///   - seed: initialization seed of the heads (and of MoCo's initial queue).
/// - Throws: `InvalidOption` naming an invalid option; `ConfigurationError` for a backbone an
///   EMA method cannot copy.
public func makeMethod(name: MethodName, backbone: any Backbone, options: MethodOptions = .init(), seed: UInt64) throws -> any ContrastiveMethod {
    try options.validate(for: name)
    switch name {
    case .simclr: return SimCLR(backbone: backbone, options: options, seed: seed)
    case .mocov2: return try MoCoV2(backbone: backbone, options: options, seed: seed)
    case .byol: return try BYOL(backbone: backbone, options: options, seed: seed)
    case .simsiam: return SimSiam(backbone: backbone, options: options, seed: seed)
    case .barlowtwins: return BarlowTwins(backbone: backbone, options: options, seed: seed)
    }
}

/// Builds the stepper of a run: `PlainStepper` without a regularizer, `ICLMSRStepper` with one.
/// - Parameters: regularizer: `nil` for `--regularizer none`; seed: the strata's seed.
public func makeTrainingStepper(method: any ContrastiveMethod, optimizer: any Optimizer, regularizer: ICLMSROptions?, seed: UInt64) throws -> any TrainingStepper {
    guard let regularizer else { return PlainStepper(method: method, optimizer: optimizer) }
    return try ICLMSRStepper(method: method, optimizer: optimizer, options: regularizer, seed: seed)
}
