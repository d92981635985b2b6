import Foundation

/// A learning rate as a pure function of the optimizer step (0-based: step 0 is the first update).
///
/// Schedules hold no state, so resuming from a checkpoint only needs the step count. They are
/// `Codable` so experiment specs and checkpoints can store them; the encoded form is
/// `{"warmupCosine": {"baseLR": 0.3, "warmupSteps": 10, ...}}` (see `init(from:)`).
///
/// Ask `learningRate(atStep:)` *before* each update, as solo-learn's per-step
/// `LinearWarmupCosineAnnealingLR` (interval "step") provides the rate for the coming update.
public enum LearningRateSchedule: Sendable, Codable, Equatable {
    /// The same rate at every step.
    case constant(Float)

    /// Linear warm-up followed by half-cosine decay, solo-learn's `LinearWarmupCosineAnnealingLR`
    /// (closed form, stepped per iteration):
    ///
    ///     s < W:       warmupStartLR + s·(baseLR − warmupStartLR)/(W − 1)
    ///     W ≤ s ≤ T:   finalLR + ½(baseLR − finalLR)(1 + cos(π·(s − W)/(T − W)))
    ///     s > T:       finalLR
    ///
    /// with `W = warmupSteps`, `T = totalSteps`. The warm-up divides by `W − 1` (solo-learn's
    /// convention), so the rate reaches `baseLR` at step `W − 1` and is `baseLR` again at `W`;
    /// `W = 1` means step 0 uses `warmupStartLR`. `W = 0` starts the cosine at step 0. The rate
    /// equals `finalLR` (solo-learn's `eta_min`) at step `T` and is held there afterwards (solo-learn
    /// would let the cosine rise again; a run never asks for steps past `T`).
    case warmupCosine(baseLR: Float, finalLR: Float = 0, warmupStartLR: Float = 0, warmupSteps: Int, totalSteps: Int)

    /// `baseLR · gamma^k`, `k` the number of milestones ≤ step (`torch.optim.lr_scheduler.MultiStepLR`).
    case stepDecay(baseLR: Float, milestones: [Int], gamma: Float = 0.1)

    /// The rate for the update at `step` (0-based).
    /// - Precondition: `step ≥ 0`; for `.warmupCosine`, `0 ≤ warmupSteps < totalSteps`.
    public func learningRate(atStep step: Int) -> Float {
        precondition(step >= 0, "LearningRateSchedule: negative step \(step)")
        switch self {
        case .constant(let lr):
            return lr
        case let .warmupCosine(base, final, start, warmup, total):
            precondition(warmup >= 0 && warmup < total,
                         "LearningRateSchedule.warmupCosine: need 0 ≤ warmupSteps (\(warmup)) < totalSteps (\(total))")
            if step < warmup {
                guard warmup > 1 else { return start }
                return Float(Double(start) + Double(step) * (Double(base) - Double(start)) / Double(warmup - 1))
            }
            if step >= total { return final }
            let progress = Double(step - warmup) / Double(total - warmup)
            return Float(Double(final) + 0.5 * (Double(base) - Double(final)) * (1 + Foundation.cos(Double.pi * progress)))
        case let .stepDecay(base, milestones, gamma):
            let k = milestones.reduce(0) { $0 + ($1 <= step ? 1 : 0) }
            return Float(Double(base) * Foundation.pow(Double(gamma), Double(k)))
        }
    }
}

extension LearningRateSchedule {
    /// Why a schedule cannot be used, or `nil` when it is valid.
    public var validationError: String? {
        switch self {
        case .constant(let lr):
            return lr.isFinite && lr >= 0 ? nil : "constant learning rate \(lr) must be finite and ≥ 0"
        case let .warmupCosine(base, final, start, warmup, total):
            if warmup < 0 || warmup >= total { return "warmupCosine needs 0 ≤ warmupSteps < totalSteps, got warmupSteps \(warmup), totalSteps \(total)" }
            if ![base, final, start].allSatisfy({ $0.isFinite && $0 >= 0 }) { return "warmupCosine rates must be finite and ≥ 0, got baseLR \(base), finalLR \(final), warmupStartLR \(start)" }
            return nil
        case let .stepDecay(base, milestones, gamma):
            if !(base.isFinite && base >= 0 && gamma.isFinite && gamma >= 0) { return "stepDecay needs finite baseLR ≥ 0 and gamma ≥ 0, got baseLR \(base), gamma \(gamma)" }
            if milestones.contains(where: { $0 < 0 }) { return "stepDecay milestones must be ≥ 0, got \(milestones)" }
            return nil
        }
    }

    private enum Kind: String, CodingKey { case constant, warmupCosine, stepDecay }
    private enum Field: String, CodingKey { case learningRate, baseLR, finalLR, warmupStartLR, warmupSteps, totalSteps, milestones, gamma }

    /// Decodes `{"constant": {"learningRate": …}}`, `{"warmupCosine": {"baseLR", "warmupSteps",
    /// "totalSteps", optional "finalLR" (0), "warmupStartLR" (0)}}` or `{"stepDecay": {"baseLR",
    /// "milestones", optional "gamma" (0.1)}}`, and rejects invalid values.
    public init(from decoder: Decoder) throws {
        let outer = try decoder.container(keyedBy: Kind.self)
        guard outer.allKeys.count == 1, let kind = outer.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "learning-rate schedule: expected exactly one of constant, warmupCosine, stepDecay; got \(outer.allKeys.map(\.stringValue))"))
        }
        let c = try outer.nestedContainer(keyedBy: Field.self, forKey: kind)
        switch kind {
        case .constant:
            self = .constant(try c.decode(Float.self, forKey: .learningRate))
        case .warmupCosine:
            self = .warmupCosine(baseLR: try c.decode(Float.self, forKey: .baseLR),
                                 finalLR: try c.decodeIfPresent(Float.self, forKey: .finalLR) ?? 0,
                                 warmupStartLR: try c.decodeIfPresent(Float.self, forKey: .warmupStartLR) ?? 0,
                                 warmupSteps: try c.decode(Int.self, forKey: .warmupSteps),
                                 totalSteps: try c.decode(Int.self, forKey: .totalSteps))
        case .stepDecay:
            self = .stepDecay(baseLR: try c.decode(Float.self, forKey: .baseLR),
                              milestones: try c.decode([Int].self, forKey: .milestones),
                              gamma: try c.decodeIfPresent(Float.self, forKey: .gamma) ?? 0.1)
        }
        if let problem = validationError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [kind], debugDescription: "learning-rate schedule: \(problem)"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var outer = encoder.container(keyedBy: Kind.self)
        switch self {
        case .constant(let lr):
            var c = outer.nestedContainer(keyedBy: Field.self, forKey: .constant)
            try c.encode(lr, forKey: .learningRate)
        case let .warmupCosine(base, final, start, warmup, total):
            var c = outer.nestedContainer(keyedBy: Field.self, forKey: .warmupCosine)
            try c.encode(base, forKey: .baseLR); try c.encode(final, forKey: .finalLR); try c.encode(start, forKey: .warmupStartLR)
            try c.encode(warmup, forKey: .warmupSteps); try c.encode(total, forKey: .totalSteps)
        case let .stepDecay(base, milestones, gamma):
            var c = outer.nestedContainer(keyedBy: Field.self, forKey: .stepDecay)
            try c.encode(base, forKey: .baseLR); try c.encode(milestones, forKey: .milestones); try c.encode(gamma, forKey: .gamma)
        }
    }
}
