import TensorCore

/// `max(x, 0)`; no parameters.
public final class ReLU: Layer {
    public init() {}
    public func callAsFunction(_ x: Tensor, mode: ForwardMode = .train) throws -> Tensor { x.relu() }
}

/// Passes its input through (`torch.nn.Identity`).
public final class Identity: Layer {
    public init() {}
    public func callAsFunction(_ x: Tensor, mode: ForwardMode = .train) throws -> Tensor { x }
}

/// Applies layers in order; children are named "0", "1", … like `torch.nn.Sequential`.
public final class Sequential: Layer {
    public let layers: [any Layer]
    public init(_ layers: [any Layer]) { self.layers = layers }
    public var children: [(String, any Module)] { layers.enumerated().map { (String($0.offset), $0.element) } }
    public func callAsFunction(_ x: Tensor, mode: ForwardMode = .train) throws -> Tensor {
        try layers.reduce(x) { try $1($0, mode: mode) }
    }
}
