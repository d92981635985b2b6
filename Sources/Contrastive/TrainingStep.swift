import NN
import TensorCore

/// One full training iteration of a contrastive method, plain or regularized: the single API a
/// training loop calls, whatever the regularizer.
///
/// A stepper owns the method, the encoder optimizer and (for ICL-MSR) the regularizer and its
/// meta-optimizer. It holds no random state and no step counter of its own (the loop passes
/// `step`), so `stateTensors()` after step `s` plus the loop's step count is a complete resume
/// point: restoring it into a freshly built stepper with the same configuration continues
/// bit-identically.
public protocol TrainingStepper: AnyObject {
    /// The method being trained (its `backbone` is what evaluation uses).
    var method: any ContrastiveMethod { get }
    /// Runs one iteration on two views `[N, 3, H, W]` of the same N images: forward, backward,
    /// encoder optimizer step at `learningRate`, the regularizer's meta step when due, then
    /// `method.didStep` (EMA targets, queue).
    /// - Parameters:
    ///   - step: the 0-based index of this iteration in the run.
    ///   - totalSteps: the run's total number of iterations (EMA τ schedules).
    /// - Returns: named scalar metrics; always contains `loss` (the objective that was minimized).
    func step(view1: Tensor, view2: Tensor, learningRate: Float, step: Int, totalSteps: Int) throws -> [String: Float]
    /// The same iteration with one same-background hard negative per image, `hardNegatives`
    /// `[N, 3, H, W]` (`nil`: exactly the two-view step). Steppers that cannot use them refuse
    /// them (the default); `PlainStepper` passes them to a `HardNegativeContrastiveMethod`.
    func step(view1: Tensor, view2: Tensor, hardNegatives: Tensor?, learningRate: Float, step: Int, totalSteps: Int) throws -> [String: Float]
    /// Everything a bit-identical resume needs, by unique dotted name: `method.*` (parameters and
    /// buffers: online and EMA networks, BN statistics, MoCo queue), `optimizer.*` (encoder
    /// optimizer state), and for ICL-MSR `regularizer.*` and `meta_optimizer.*`.
    func stateTensors() -> [(name: String, tensor: Tensor)]
    /// Restores what `stateTensors()` returned. Throws on unknown names or shape mismatches.
    func loadStateTensors(_ tensors: [String: Tensor]) throws
}

extension TrainingStepper {
    /// Refuses hard negatives; without them, the two-view step.
    /// - Throws: `InvalidOption` naming `intervention.hardNegatives`.
    public func step(view1: Tensor, view2: Tensor, hardNegatives: Tensor?, learningRate: Float, step: Int, totalSteps: Int) throws -> [String: Float] {
        guard hardNegatives == nil else {
            throw InvalidOption(key: "intervention.hardNegatives", value: true,
                                reason: "\(Self.self) does not train with hard negatives; train without a regularizer (PlainStepper) or drop hardNegatives")
        }
        return try self.step(view1: view1, view2: view2, learningRate: learningRate, step: step, totalSteps: totalSteps)
    }
}

/// Errors when restoring a stepper's state.
public enum TrainingStateError: Error, CustomStringConvertible, Equatable {
    case unknownKey(String)
    case missingKey(String)
    case shapeMismatch(key: String, expected: [Int], actual: [Int])

    public var description: String {
        switch self {
        case .unknownKey(let k): return "training state: unknown tensor '\(k)' (saved by another method or configuration?)"
        case .missingKey(let k): return "training state: tensor '\(k)' is missing; the checkpoint is incomplete"
        case .shapeMismatch(let k, let e, let a): return "training state '\(k)': expected shape \(e), got \(a)"
        }
    }
}

/// Training without a regularizer: `L = L_base`, one optimizer step, `didStep`.
public final class PlainStepper: TrainingStepper {
    public let method: any ContrastiveMethod
    public let optimizer: any Optimizer

    /// - Parameters:
    ///   - method: the method to train.
    ///   - optimizer: built over `method.trainableParameters()`.
    public init(method: any ContrastiveMethod, optimizer: any Optimizer) {
        self.method = method
        self.optimizer = optimizer
    }

    public func step(view1: Tensor, view2: Tensor, learningRate: Float, step: Int, totalSteps: Int) throws -> [String: Float] {
        try self.step(view1: view1, view2: view2, hardNegatives: nil, learningRate: learningRate, step: step, totalSteps: totalSteps)
    }

    /// `L = L_base` with the hard negatives among the method's negatives when given.
    /// - Throws: `InvalidOption` naming `intervention.hardNegatives` when the method has no negatives.
    public func step(view1: Tensor, view2: Tensor, hardNegatives: Tensor?, learningRate: Float, step: Int, totalSteps: Int) throws -> [String: Float] {
        let out: MethodOutput
        if let hardNegatives {
            guard let m = method as? any HardNegativeContrastiveMethod else {
                throw InvalidOption(key: "intervention.hardNegatives", value: true,
                                    reason: "\(method.methodName) has no negatives to add them to; use simclr or mocov2, or drop hardNegatives")
            }
            out = try m.loss(view1: view1, view2: view2, hardNegatives: hardNegatives, mode: .train)
        } else {
            out = try method.loss(view1: view1, view2: view2, mode: .train)
        }
        let grads = out.loss.gradients(for: method.trainableParameters().map(\.parameter.value))
        try optimizer.step(grads, learningRate: learningRate)
        method.didStep(step: step, totalSteps: totalSteps)
        var metrics = out.metrics
        metrics["loss"] = out.loss.item
        metrics["lr"] = learningRate
        return metrics
    }

    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        prefixed("method.", method.stateTensors()) + prefixed("optimizer.", optimizer.stateTensors())
    }

    public func loadStateTensors(_ tensors: [String: Tensor]) throws {
        var rest = tensors
        try loadModuleState(method, from: &rest, prefix: "method.")
        try optimizer.loadStateTensors(take(prefix: "optimizer.", from: &rest))
        if let unknown = rest.keys.sorted().first { throw TrainingStateError.unknownKey(unknown) }
    }
}

// MARK: - State helpers

func prefixed(_ prefix: String, _ list: [(name: String, tensor: Tensor)]) -> [(name: String, tensor: Tensor)] {
    list.map { (prefix + $0.name, $0.tensor) }
}

/// Removes and returns the entries of `tensors` under `prefix`, with the prefix stripped.
func take(prefix: String, from tensors: inout [String: Tensor]) -> [String: Tensor] {
    var out: [String: Tensor] = [:]
    for (k, v) in tensors where k.hasPrefix(prefix) { out[String(k.dropFirst(prefix.count))] = v }
    for k in out.keys { tensors[prefix + k] = nil }
    return out
}

/// Loads every parameter and buffer of `module` from `tensors[prefix + name]` (all required),
/// removing the consumed entries.
func loadModuleState(_ module: any Module, from tensors: inout [String: Tensor], prefix: String) throws {
    for (name, p) in module.namedParameters() {
        guard let t = tensors.removeValue(forKey: prefix + name) else { throw TrainingStateError.missingKey(prefix + name) }
        guard t.shape == p.shape else { throw TrainingStateError.shapeMismatch(key: prefix + name, expected: p.shape, actual: t.shape) }
        p.value = t
    }
    for (name, b) in module.namedBuffers() {
        guard let t = tensors.removeValue(forKey: prefix + name) else { throw TrainingStateError.missingKey(prefix + name) }
        guard t.shape == b.value.shape else { throw TrainingStateError.shapeMismatch(key: prefix + name, expected: b.value.shape, actual: t.shape) }
        b.value = t.detached()
    }
}
