import TensorCore

/// Chooses parameters by dotted name and shape (for weight-decay or LARS exclusions).
public struct ParameterSelector: Sendable {
    public let matches: @Sendable (_ name: String, _ shape: [Int]) -> Bool
    public init(_ matches: @escaping @Sendable (_ name: String, _ shape: [Int]) -> Bool) { self.matches = matches }

    /// Selects nothing.
    public static let none = ParameterSelector { _, _ in false }
    /// Biases and normalization weights: every parameter of rank ≤ 1 (the usual convention for
    /// excluding them from weight decay and LARS adaptation).
    public static let biasesAndNorms = ParameterSelector { _, shape in shape.count <= 1 }
}

/// One trainable parameter as an optimizer sees it.
public struct NamedParameter {
    public let name: String
    public let parameter: Parameter
    public init(name: String, parameter: Parameter) { self.name = name; self.parameter = parameter }
}

/// Errors from optimizer state handling and updates.
public enum OptimizerError: Error, CustomStringConvertible {
    case missingGradient(parameter: String)
    case gradientShape(parameter: String, expected: [Int], actual: [Int])
    case stateShape(key: String, expected: [Int], actual: [Int])
    case unknownStateKey(String)

    public var description: String {
        switch self {
        case .missingGradient(let p): return "optimizer: no gradient for parameter '\(p)' (the loss does not depend on it; pass allowMissingGradients to skip it)"
        case .gradientShape(let p, let e, let a): return "optimizer: gradient of '\(p)' has shape \(a), parameter has \(e)"
        case .stateShape(let k, let e, let a): return "optimizer state '\(k)': expected shape \(e), got \(a)"
        case .unknownStateKey(let k): return "optimizer state: unknown key '\(k)' (was it saved by another optimizer or model?)"
        }
    }
}

/// A first-order optimizer over named parameters.
///
/// `step` reads each parameter's gradient from the store returned by `Tensor.gradients(for:)`
/// and updates the parameter in place. Per-parameter state (momentum, moments) is kept by the
/// optimizer under the parameter's dotted name so it can be checkpointed.
public protocol Optimizer: AnyObject {
    var parameters: [NamedParameter] { get }
    /// Applies one update with the given learning rate (schedules are pure functions of the step).
    /// - Parameter allowMissingGradients: skip parameters without a gradient instead of throwing.
    func step(_ gradients: Gradients, learningRate: Float, allowMissingGradients: Bool) throws
    /// The optimizer's state as named tensors (`<kind>.<parameter name>`), for checkpoints.
    func stateTensors() -> [(name: String, tensor: Tensor)]
    /// Restores state saved by `stateTensors()`.
    func loadStateTensors(_ tensors: [String: Tensor]) throws
}

extension Optimizer {
    public func step(_ gradients: Gradients, learningRate: Float) throws {
        try step(gradients, learningRate: learningRate, allowMissingGradients: false)
    }

    /// The gradient of `p` checked against its shape, or `nil` when missing and allowed.
    func gradient(of p: NamedParameter, in gradients: Gradients, allowMissing: Bool) throws -> Tensor? {
        guard let g = gradients[p.parameter.value] else {
            if allowMissing { return nil }
            throw OptimizerError.missingGradient(parameter: p.name)
        }
        guard g.shape == p.parameter.shape else { throw OptimizerError.gradientShape(parameter: p.name, expected: p.parameter.shape, actual: g.shape) }
        return g
    }

    /// Momentum buffers as checkpoint state: `momentum_buffer.<parameter name>` (SGD, LARS).
    func momentumStateTensors(_ buffers: [String: Tensor]) -> [(name: String, tensor: Tensor)] {
        parameters.compactMap { p in buffers[p.name].map { ("momentum_buffer.\(p.name)", $0) } }
    }

    /// Validates and decodes state written by `momentumStateTensors`, keyed by parameter name.
    func loadMomentumBuffers(_ tensors: [String: Tensor]) throws -> [String: Tensor] {
        let byName = Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0) })
        var loaded: [String: Tensor] = [:]
        for (key, t) in tensors {
            guard key.hasPrefix("momentum_buffer."), let p = byName[String(key.dropFirst("momentum_buffer.".count))] else {
                throw OptimizerError.unknownStateKey(key)
            }
            guard t.shape == p.parameter.shape else { throw OptimizerError.stateShape(key: key, expected: p.parameter.shape, actual: t.shape) }
            loaded[p.name] = t.detached()
        }
        return loaded
    }

    /// Applies `update(param, grad)` in place to the parameter's elements.
    func updateInPlace(_ p: NamedParameter, _ update: (UnsafeMutableBufferPointer<Float>) -> Void) {
        var v = p.parameter.value
        v.withMutableStorage(update)
        p.parameter.value = v
    }
}

extension Module {
    /// The module's parameters as an optimizer takes them.
    public func optimizerParameters() -> [NamedParameter] {
        namedParameters().map { NamedParameter(name: $0.name, parameter: $0.parameter) }
    }
}
