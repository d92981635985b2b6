/// One recorded operation in the reverse-mode graph.
///
/// A node holds its input nodes and a pullback that maps the gradient of the op's output to the
/// gradients of its inputs (one entry per input, `nil` where the input is not tracked). Leaves
/// (parameters, `trackedLeaf()`) have no inputs and no pullback. Identity is object identity.
public final class GraphNode: @unchecked Sendable {
    public let inputs: [GraphNode?]
    public let pullback: ((Tensor) -> [Tensor?])?
    public let debugName: String

    public init(inputs: [GraphNode?], debugName: String, pullback: ((Tensor) -> [Tensor?])?) {
        self.inputs = inputs
        self.debugName = debugName
        self.pullback = pullback
    }

    public var id: ObjectIdentifier { ObjectIdentifier(self) }
}

/// Scoped gradient switch. Inside `withoutGradients { … }` no op records a graph node.
public enum GradientMode {
    @TaskLocal public static var isEnabled: Bool = true
}

/// Runs `body` without recording any autograd graph (evaluation, virtual steps, EMA updates).
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradientMode.$isEnabled.withValue(false) { try body() }
}

/// Gradients returned by `Tensor.gradients(for:)`, keyed by leaf identity.
public struct Gradients: @unchecked Sendable {
    private var storage: [ObjectIdentifier: Tensor] = [:]
    public init() {}

    /// The gradient of `leaf`, or `nil` when the loss does not depend on it.
    public subscript(_ leaf: Tensor) -> Tensor? {
        guard let n = leaf.node else { return nil }
        return storage[n.id]
    }
    subscript(id id: ObjectIdentifier) -> Tensor? {
        get { storage[id] }
        set { storage[id] = newValue }
    }
    public var count: Int { storage.count }
}

extension Tensor {
    /// Creates the result of an op: tracked when gradients are enabled and any input is tracked.
    /// - Parameters:
    ///   - inputs: the op's tensor inputs, in the order `pullback` returns gradients.
    ///   - pullback: maps the output gradient (same shape as the result) to input gradients.
    @inline(__always)
    public static func record(_ name: String, result: Tensor, inputs: [Tensor],
                              pullback: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard GradientMode.isEnabled, inputs.contains(where: { $0.node != nil }) else { return result }
        let node = GraphNode(inputs: inputs.map(\.node), debugName: name, pullback: pullback)
        return Tensor(shape: result.shape, storage: result.storage, node: node)
    }

    /// Reverse-mode gradients of this scalar with respect to `leaves`.
    ///
    /// The seed gradient is 1 (`seed` overrides it for non-scalar outputs, same shape as `self`).
    /// Pullbacks run without recording, so the returned gradients are constants.
    /// - Returns: a store with an entry for each leaf the output depends on.
    public func gradients(for leaves: [Tensor], seed: Tensor? = nil) -> Gradients {
        precondition(seed != nil || count == 1,
                     "gradients(for:): output of shape \(shape) is not a scalar; pass a seed of the same shape")
        if let seed { precondition(seed.shape == shape, "gradients(for:): seed shape \(seed.shape) differs from output shape \(shape)") }
        var result = Gradients()
        guard let root = node else { return result }
        let wanted = Set(leaves.compactMap { $0.node?.id })

        // Iterative post-order DFS → topological order (inputs before outputs).
        var order: [GraphNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GraphNode, Int)] = [(root, 0)]
        visited.insert(root.id)
        while let (n, i) = stack.popLast() {
            if i < n.inputs.count {
                stack.append((n, i + 1))
                if let child = n.inputs[i], !visited.contains(child.id) {
                    visited.insert(child.id)
                    stack.append((child, 0))
                }
            } else {
                order.append(n)
            }
        }

        var grads: [ObjectIdentifier: Tensor] = [root.id: seed?.detached() ?? Tensor(repeating: 1, shape: shape)]
        withoutGradients {
            for n in order.reversed() {
                guard let g = grads[n.id] else { continue }
                if wanted.contains(n.id) { result[id: n.id] = g }
                guard let pullback = n.pullback else { continue }
                grads[n.id] = nil
                let inputGrads = pullback(g)
                for (input, ig) in zip(n.inputs, inputGrads) {
                    guard let input, let ig else { continue }
                    if var existing = grads.removeValue(forKey: input.id) {
                        existing.accumulate(ig)
                        grads[input.id] = existing
                    } else {
                        grads[input.id] = ig
                    }
                }
            }
        }
        return result
    }

    /// `self += other` in place (copy-on-write); used for gradient accumulation.
    public mutating func accumulate(_ other: Tensor) {
        precondition(shape == other.shape, "accumulate: shape \(shape) vs \(other.shape)")
        let o = other.pointer
        withMutableStorage { b in for i in 0..<b.count { b[i] += o[i] } }
    }
}
