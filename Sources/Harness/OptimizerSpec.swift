import Foundation
import NN

/// The encoder optimizer and its learning-rate schedule, as an experiment spec states them.
///
/// The learning rate is given per 256 images (`baseLearningRate`) and scaled linearly to the
/// batch size (Goyal et al. 2017; solo-learn's convention). The schedule is a linear warm-up over
/// `warmupEpochs` followed by a half cosine to `finalLearningRate` at the last step
/// (`LearningRateSchedule.warmupCosine`, per step).
///
/// References: Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour", 2017.
/// da Costa et al., "solo-learn", JMLR 2022 (recipes in `recipe(for:)`).
public struct OptimizerSpec: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case sgd, lars, adamw }

    public var kind: Kind
    /// Learning rate for a batch of 256 images.
    public var baseLearningRate: Float
    /// Momentum (SGD, LARS); ignored by AdamW (β₁ 0.9, β₂ 0.999).
    public var momentum: Float
    public var weightDecay: Float
    /// LARS trust coefficient η and solo-learn's `clip_lars_lr`.
    public var larsEta: Float
    public var larsClip: Bool
    /// Exclude biases and normalization weights (rank ≤ 1) from weight decay and from LARS
    /// adaptation (solo-learn's `exclude_bias_n_norm`).
    public var excludeBiasAndNorm: Bool
    /// Linear warm-up length in epochs (fractions allowed); `nil`: 10% of the run, at most 10
    /// epochs (solo-learn warms up 10 of 1000 epochs; short runs need a proportional warm-up).
    public var warmupEpochs: Double?
    /// Rate at the end of the cosine, as a fraction of the scaled base rate.
    public var finalLearningRateFraction: Float

    public init(kind: Kind, baseLearningRate: Float, momentum: Float = 0.9, weightDecay: Float, larsEta: Float = 0.02,
                larsClip: Bool = true, excludeBiasAndNorm: Bool = true, warmupEpochs: Double? = nil, finalLearningRateFraction: Float = 0) {
        self.kind = kind
        self.baseLearningRate = baseLearningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.larsEta = larsEta
        self.larsClip = larsClip
        self.excludeBiasAndNorm = excludeBiasAndNorm
        self.warmupEpochs = warmupEpochs
        self.finalLearningRateFraction = finalLearningRateFraction
    }

    /// solo-learn's CIFAR recipe for `method` (LARS for SimCLR, BYOL, Barlow Twins; SGD with
    /// momentum 0.9 for MoCo v2 and SimSiam; rates per 256 images).
    public static func recipe(for method: String) -> OptimizerSpec {
        switch method {
        case "simclr": return OptimizerSpec(kind: .lars, baseLearningRate: 0.4, weightDecay: 1e-5)
        case "byol": return OptimizerSpec(kind: .lars, baseLearningRate: 1.0, weightDecay: 1e-5)
        case "barlowtwins": return OptimizerSpec(kind: .lars, baseLearningRate: 0.3, weightDecay: 1e-4)
        case "mocov2": return OptimizerSpec(kind: .sgd, baseLearningRate: 0.3, weightDecay: 1e-4, excludeBiasAndNorm: false)
        case "simsiam": return OptimizerSpec(kind: .sgd, baseLearningRate: 0.5, weightDecay: 1e-5, excludeBiasAndNorm: false)
        default: return OptimizerSpec(kind: .sgd, baseLearningRate: 0.1, weightDecay: 1e-4, excludeBiasAndNorm: false)
        }
    }

    /// Why the spec cannot be used (naming the field), or `nil`.
    public var validationError: (field: String, reason: String)? {
        if !(baseLearningRate.isFinite && baseLearningRate > 0) { return ("baseLearningRate", "must be finite and > 0, got \(baseLearningRate)") }
        if !(momentum >= 0 && momentum < 1) { return ("momentum", "must lie in [0, 1), got \(momentum)") }
        if !(weightDecay.isFinite && weightDecay >= 0) { return ("weightDecay", "must be finite and ≥ 0, got \(weightDecay)") }
        if !(larsEta.isFinite && larsEta > 0) { return ("larsEta", "must be finite and > 0, got \(larsEta)") }
        if let w = warmupEpochs, !(w.isFinite && w >= 0) { return ("warmupEpochs", "must be finite and ≥ 0, got \(w)") }
        if !(finalLearningRateFraction >= 0 && finalLearningRateFraction <= 1) { return ("finalLearningRateFraction", "must lie in [0, 1]") }
        return nil
    }

    /// The rate actually used at the top of the schedule: `baseLearningRate · batchSize / 256`.
    public func scaledLearningRate(batchSize: Int) -> Float { baseLearningRate * Float(batchSize) / 256 }

    /// Warm-up steps for a run of `epochs × stepsPerEpoch` steps (always < total steps).
    public func warmupSteps(stepsPerEpoch: Int, epochs: Int) -> Int {
        let total = stepsPerEpoch * epochs
        let w = warmupEpochs ?? min(10, 0.1 * Double(epochs))
        return max(0, min(Int((w * Double(stepsPerEpoch)).rounded()), total - 1))
    }

    /// The per-step schedule of a run.
    /// - Precondition: `stepsPerEpoch ≥ 1`, `epochs ≥ 1`.
    public func schedule(batchSize: Int, stepsPerEpoch: Int, epochs: Int) -> LearningRateSchedule {
        let peak = scaledLearningRate(batchSize: batchSize)
        return .warmupCosine(baseLR: peak, finalLR: peak * finalLearningRateFraction, warmupStartLR: 0,
                             warmupSteps: warmupSteps(stepsPerEpoch: stepsPerEpoch, epochs: epochs), totalSteps: stepsPerEpoch * epochs)
    }

    /// A fresh optimizer over `parameters`.
    public func makeOptimizer(_ parameters: [NamedParameter]) -> any Optimizer {
        let exclude: ParameterSelector = excludeBiasAndNorm ? .biasesAndNorms : .none
        switch kind {
        case .sgd:
            return SGD(parameters, momentum: momentum, weightDecay: weightDecay, excludeFromWeightDecay: exclude)
        case .lars:
            return LARS(parameters, momentum: momentum, weightDecay: weightDecay, eta: larsEta, clip: larsClip,
                        excludeFromWeightDecay: exclude, excludeFromAdaptation: exclude)
        case .adamw:
            return AdamW(parameters, weightDecay: weightDecay, excludeFromWeightDecay: exclude)
        }
    }
}
