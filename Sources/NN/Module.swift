import TensorCore

/// How a forward pass treats batch-dependent layers (batch norm). Passed explicitly to every
/// call: there is no hidden global training flag.
public struct ForwardMode: Sendable, Equatable {
    /// Batch norm normalizes with batch statistics (else running statistics).
    public var usesBatchStatistics: Bool
    /// Batch norm folds the batch statistics into its running buffers.
    public var updatesRunningStatistics: Bool

    /// Training: batch statistics, running buffers updated.
    public static let train = ForwardMode(usesBatchStatistics: true, updatesRunningStatistics: true)
    /// Training arithmetic without touching buffers (virtual / meta passes).
    public static let trainFrozenStatistics = ForwardMode(usesBatchStatistics: true, updatesRunningStatistics: false)
    /// Evaluation: running statistics.
    public static let eval = ForwardMode(usesBatchStatistics: false, updatesRunningStatistics: false)
}

/// A trainable tensor with a stable dotted name inside its module tree.
///
/// `value` is always a tracked autograd leaf, so `loss.gradients(for: model.parameters().map(\.value))`
/// returns its gradient; assigning a new value makes a fresh leaf.
public final class Parameter: @unchecked Sendable {
    private var leaf: Tensor
    public var value: Tensor {
        get { leaf }
        set { leaf = newValue.detached().trackedLeaf() }
    }
    public var shape: [Int] { leaf.shape }
    public init(_ value: Tensor) { leaf = value.detached().trackedLeaf() }
}

/// The element type a buffer is saved with (PyTorch stores `num_batches_tracked` as int64).
public enum BufferKind: Sendable { case float32, int64 }

/// Non-trained state that belongs to a module (batch-norm running statistics).
public final class Buffer: @unchecked Sendable {
    public var value: Tensor
    public let kind: BufferKind
    public init(_ value: Tensor, kind: BufferKind = .float32) { self.value = value.detached(); self.kind = kind }
}

/// A node of the model tree. Conformers list their own parameters, buffers and children with the
/// names PyTorch would use; the dotted paths (`layer2.shortcut.0.weight`) are derived from them.
public protocol Module: AnyObject {
    /// This module's own parameters, by local name.
    var ownParameters: [(String, Parameter)] { get }
    /// This module's own buffers, by local name.
    var ownBuffers: [(String, Buffer)] { get }
    /// Child modules, by local name.
    var children: [(String, any Module)] { get }
}

extension Module {
    public var ownParameters: [(String, Parameter)] { [] }
    public var ownBuffers: [(String, Buffer)] { [] }
    public var children: [(String, any Module)] { [] }

    /// All parameters with dotted names, depth first in declaration order.
    public func namedParameters(prefix: String = "") -> [(name: String, parameter: Parameter)] {
        var out = ownParameters.map { (name: prefix + $0.0, parameter: $0.1) }
        for (name, child) in children { out += child.namedParameters(prefix: prefix + name + ".") }
        return out
    }

    /// All buffers with dotted names.
    public func namedBuffers(prefix: String = "") -> [(name: String, buffer: Buffer)] {
        var out = ownBuffers.map { (name: prefix + $0.0, buffer: $0.1) }
        for (name, child) in children { out += child.namedBuffers(prefix: prefix + name + ".") }
        return out
    }

    public func parameters() -> [Parameter] { namedParameters().map(\.parameter) }

    /// Parameters and buffers as one dotted-name → tensor map (PyTorch's `state_dict`).
    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        namedParameters().map { ($0.name, $0.parameter.value.detached()) } + namedBuffers().map { ($0.name, $0.buffer.value) }
    }
}

/// A module with a forward pass `[N, …] → [N, …]`.
public protocol Layer: Module {
    /// - Throws: `ShapeError` when `input` does not fit this layer.
    func callAsFunction(_ input: Tensor, mode: ForwardMode) throws -> Tensor
}

/// A layer received an input of the wrong shape.
public struct ShapeError: Error, CustomStringConvertible {
    public let layer: String
    public let expected: String
    public let actual: [Int]
    public init(layer: String, expected: String, actual: [Int]) { self.layer = layer; self.expected = expected; self.actual = actual }
    public var description: String { "\(layer): expected input of shape \(expected), got \(actual)" }
}
