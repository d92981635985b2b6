import Foundation
import TensorCore

/// The encoder optimizer as a configuration states it (`optimizer:` in a spec; each method's
/// recipe gives the defaults).
///
/// The learning rate is given per 256 images (`lr`) and scaled linearly to the batch size
/// (Goyal et al. 2017; solo-learn's convention).
///
/// References: Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour", 2017.
/// da Costa et al., "solo-learn", JMLR 2022 (the methods' recipes).
public struct OptimizerSpec: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case sgd, lars, adamw }

    public var kind: Kind
    /// Learning rate for a batch of 256 images (key `lr`).
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

    enum CodingKeys: String, CodingKey {
        case kind, baseLearningRate = "lr", momentum, weightDecay, larsEta, larsClip, excludeBiasAndNorm
    }

    public init(kind: Kind, baseLearningRate: Float, momentum: Float = 0.9, weightDecay: Float, larsEta: Float = 0.02,
                larsClip: Bool = true, excludeBiasAndNorm: Bool = true) {
        self.kind = kind
        self.baseLearningRate = baseLearningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.larsEta = larsEta
        self.larsClip = larsClip
        self.excludeBiasAndNorm = excludeBiasAndNorm
    }

    /// - Throws: `InvalidOption` naming the first bad key (`lr`, `momentum`, …).
    public func validate() throws {
        func bad(_ key: CodingKeys, _ value: Any, _ reason: String) -> InvalidOption {
            InvalidOption(key: key.rawValue, value: value, reason: reason)
        }
        guard baseLearningRate.isFinite && baseLearningRate > 0 else { throw bad(.baseLearningRate, baseLearningRate, "must be finite and > 0") }
        guard momentum >= 0 && momentum < 1 else { throw bad(.momentum, momentum, "must lie in [0, 1)") }
        guard weightDecay.isFinite && weightDecay >= 0 else { throw bad(.weightDecay, weightDecay, "must be finite and ≥ 0") }
        guard larsEta.isFinite && larsEta > 0 else { throw bad(.larsEta, larsEta, "must be finite and > 0") }
    }

    /// The rate actually used at the top of the schedule: `baseLearningRate · batchSize / 256`.
    public func scaledLearningRate(batchSize: Int) -> Float { baseLearningRate * Float(batchSize) / 256 }

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

/// The learning-rate schedule as a configuration states it (`schedule:` in a spec): a linear
/// warm-up over `warmupEpochs` followed by a half cosine to `finalLrFraction` of the peak at the
/// last step (`LearningRateSchedule.warmupCosine`, per step).
public struct ScheduleSpec: Codable, Sendable, Equatable {
    /// Linear warm-up length in epochs (fractions allowed); `nil`: 10% of the run, at most 10
    /// epochs (solo-learn warms up 10 of 1000 epochs; short runs need a proportional warm-up).
    public var warmupEpochs: Double?
    /// Rate at the end of the cosine, as a fraction of the peak rate.
    public var finalLrFraction: Float

    public init(warmupEpochs: Double? = nil, finalLrFraction: Float = 0) {
        self.warmupEpochs = warmupEpochs
        self.finalLrFraction = finalLrFraction
    }

    /// - Throws: `InvalidOption` naming `warmupEpochs` or `finalLrFraction`.
    public func validate() throws {
        if let w = warmupEpochs, !(w.isFinite && w >= 0) { throw InvalidOption(key: "warmupEpochs", value: w, reason: "must be finite and ≥ 0") }
        guard finalLrFraction >= 0 && finalLrFraction <= 1 else {
            throw InvalidOption(key: "finalLrFraction", value: finalLrFraction, reason: "must lie in [0, 1]")
        }
    }

    /// Warm-up steps for a run of `epochs × stepsPerEpoch` steps (always < total steps).
    public func warmupSteps(stepsPerEpoch: Int, epochs: Int) -> Int {
        let total = stepsPerEpoch * epochs
        let w = warmupEpochs ?? min(10, 0.1 * Double(epochs))
        // Clamped in Double first: a huge or non-finite warm-up must not trap in the Int conversion.
        let steps = (w * Double(stepsPerEpoch)).rounded()
        guard steps.isFinite, steps < Double(total) else { return max(0, total - 1) }
        return max(0, min(Int(steps), total - 1))
    }

    /// The per-step schedule of a run peaking at `peak`.
    /// - Precondition: `stepsPerEpoch ≥ 1`, `epochs ≥ 1`.
    public func schedule(peak: Float, stepsPerEpoch: Int, epochs: Int) -> LearningRateSchedule {
        .warmupCosine(baseLR: peak, finalLR: peak * finalLrFraction, warmupStartLR: 0,
                      warmupSteps: warmupSteps(stepsPerEpoch: stepsPerEpoch, epochs: epochs), totalSteps: stepsPerEpoch * epochs)
    }
}
