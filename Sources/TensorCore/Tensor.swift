/// A dense, contiguous, row-major (NCHW for images) `Float32` tensor.
///
/// `Tensor` is a value: operations return new tensors and never change their inputs. A tensor that
/// is *tracked* (a parameter leaf, or the result of an op on tracked inputs while gradients are
/// enabled) carries a `GraphNode`; `gradients(for:)` walks those nodes in reverse.
///
/// Shapes are `[Int]`; a scalar has shape `[]` and one element.
public struct Tensor: @unchecked Sendable {
    /// The extent of each axis.
    public let shape: [Int]
    /// The element buffer (`shape.product` floats). Shared between copies of the tensor.
    public private(set) var storage: TensorStorage
    /// The autograd node, `nil` for constants.
    public private(set) var node: GraphNode?

    /// Wraps an existing storage. - Precondition: `storage.count == shape.product`.
    public init(shape: [Int], storage: TensorStorage, node: GraphNode? = nil) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in shape \(shape)")
        precondition(storage.count == Tensor.elementCount(shape),
                     "Tensor: storage holds \(storage.count) elements but shape \(shape) needs \(Tensor.elementCount(shape))")
        self.shape = shape
        self.storage = storage
        self.node = node
    }

    /// A tensor holding `values` (row-major) with `shape`.
    /// - Precondition: `values.count` equals the product of `shape`.
    public init(shape: [Int], _ values: [Float]) {
        precondition(values.count == Tensor.elementCount(shape),
                     "Tensor(shape: \(shape)): got \(values.count) values, the shape needs \(Tensor.elementCount(shape))")
        self.init(shape: shape, storage: TensorStorage(copying: values))
    }

    /// A scalar (shape `[]`).
    public init(_ value: Float) { self.init(shape: [], [value]) }

    /// A tensor of `shape` filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, storage: TensorStorage(repeating: value, count: Tensor.elementCount(shape)))
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    /// An uninitialized tensor for kernels to fill.
    public static func uninitialized(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(uninitializedCount: elementCount(shape)))
    }

    @inline(__always) public static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Number of elements.
    @inline(__always) public var count: Int { storage.count }
    /// Number of axes.
    @inline(__always) public var rank: Int { shape.count }
    /// Read-only pointer to the elements.
    @inline(__always) public var pointer: UnsafePointer<Float> { UnsafePointer(storage.pointer) }
    /// The elements as an array (copies).
    public var scalars: [Float] { Array(storage.buffer) }
    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "Tensor.item: tensor of shape \(shape) has \(count) elements, expected 1")
        return storage.pointer[0]
    }

    /// Whether this tensor participates in autograd.
    public var isTracked: Bool { node != nil }

    /// The same values without a graph node: gradients do not flow through the result.
    public func detached() -> Tensor { node == nil ? self : Tensor(shape: shape, storage: storage) }

    /// A new *leaf* that gradients can be requested for (a fresh identity, same values).
    public func trackedLeaf() -> Tensor {
        Tensor(shape: shape, storage: storage, node: GraphNode(inputs: [], debugName: "leaf", pullback: nil))
    }

    /// Mutates the elements in place, copying the storage first if it is shared (copy-on-write).
    /// The result is untracked: in-place updates are for optimizers and buffers, outside autograd.
    public mutating func withMutableStorage<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        node = nil
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return try body(storage.buffer)
    }

    /// Row-major strides of `shape`.
    public static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// Normalizes a possibly negative axis. - Precondition: `-rank ≤ axis < rank`.
    public func normalizedAxis(_ axis: Int, _ op: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < Swift.max(rank, 1), "\(op): axis \(axis) is out of range for shape \(shape)")
        return a
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(preview)\(count > 8 ? ", …" : "")]\(isTracked ? ", tracked" : ""))"
    }
}
