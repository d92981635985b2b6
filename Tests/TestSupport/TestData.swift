import TensorCore

/// Test-data conveniences on the project's one generator, so every test draws its inputs from
/// the same seeded stream as the code under test.
extension SeededRNG {
    /// Uniform in `[-1, 1)`: the default range of test inputs.
    public mutating func uniform() -> Float { uniform(-1, 1) }

    /// A tensor with uniform entries in `[lo, hi)`, drawn in row-major order.
    public mutating func tensor(_ shape: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Tensor {
        Tensor(shape: shape, (0..<shape.reduce(1, *)).map { _ in uniform(lo, hi) })
    }
}
