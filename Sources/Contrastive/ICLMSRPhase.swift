import Foundation

/// The parts of one `ICLMSRStepper` iteration, for timing where its cost goes
/// (`ICLMSRStepper.phaseObserver`; `backdrop-bench meta-step` prints them).
///
/// The encoder objective's backward (`encoderBackward`) runs through both `L_base` and `L_MSR`
/// and the encoder at once, so the regularizer's share of it is not separable; the forward
/// halves are (`baseLoss`, `regularizerLoss`).
public enum ICLMSRPhase: String, CaseIterable, Sendable, Codable {
    /// Comparison vectors at θₜ (`.train`): the encoder forward every method step also takes.
    case encoderForward = "encoder_forward"
    /// `L_base` of those vectors (forward).
    case baseLoss = "base_loss"
    /// `L_MSR` of those vectors (forward: K applications of the loss head).
    case regularizerLoss = "regularizer_loss"
    /// `∇θ L_enc`: backward through `L_base + λ L_MSR` and the encoder.
    case encoderBackward = "encoder_backward"
    /// The encoder optimizer's step.
    case encoderUpdate = "encoder_update"
    /// `metaGradient: recomputed` only: forward+backward of `L_enc` at θₜ₊₁.
    case recomputedGradient = "recomputed_gradient"
    /// The virtual step θ' = θ − α g and `g' = ∇θ L_base(θ')` (one encoder forward+backward).
    case virtualPass = "virtual_pass"
    /// The encoder run forward only at θ + εg' (z⁻ is extrapolated from the vectors at θ).
    case perturbedForward = "perturbed_forward"
    /// `L_MSR` at the perturbed vectors and its gradient in Φ (the regularizer alone).
    case hypergradient = "hypergradient"
    /// The meta-optimizer's step on Φ and the encoder's restore.
    case metaUpdate = "meta_update"
    /// Representation metrics, regularizer diagnostics and `method.didStep`.
    case bookkeeping = "bookkeeping"
}

/// Runs `body` and reports its wall time in seconds to `observer` (no clock read without one).
@inline(__always)
func timed<R>(_ phase: ICLMSRPhase, _ observer: ((ICLMSRPhase, Double) -> Void)?, _ body: () throws -> R) rethrows -> R {
    guard let observer else { return try body() }
    let start = DispatchTime.now().uptimeNanoseconds
    let result = try body()
    observer(phase, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
    return result
}
