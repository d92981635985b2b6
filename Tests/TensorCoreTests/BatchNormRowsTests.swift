@testable import TensorCore
import Testing
import TestSupport

/// Batch norm of `[N, C]` inputs runs row by row; these pin it to the per-channel loop bit for bit.
@Suite struct BatchNormRowsTests {
    /// Forward (output, mean, variance, each channel's scale and shift) and backward (dx, dγ, dβ),
    /// plain, with the ReLU of `batchNormReLU` (its mask in the backward) and with a residual
    /// before the ReLU, on shapes whose channel count does not divide among the workers evenly.
    @Test(arguments: [(2, 1), (5, 3), (64, 37), (128, 256)], ["affine", "relu", "residual"])
    func rowsGiveThePerChannelBits(_ shape: (Int, Int), _ mode: String) {
        let (n, c) = shape
        var rng = SeededRNG(seed: UInt64(n * 1000 + c))
        let x = rng.tensor([n, c], -3, 2), gamma = rng.tensor([c], 0.5, 1.5), beta = rng.tensor([c]), dy = rng.tensor([n, c])
        let residual = rng.tensor([n, c]), relu = mode == "relu"
        func run(byChannel: Bool) -> [[UInt32]] {
            let output: Tensor.NormalizedOutput = mode == "affine" ? .affine : relu ? .relu : .addReLU(residual.pointer)
            let (y, stats, affine) = withExtendedLifetime(residual) {
                Tensor.normalize(x, gamma: gamma, beta: beta, eps: 1e-5, operation: "test", output: output, byChannel: byChannel)
            }
            let grads = Tensor.batchNormBackward(x: x, gamma: gamma, dy: dy, stats: stats, eps: 1e-5, reluOf: relu ? affine : nil, byChannel: byChannel)
            return [y.scalars, stats.mean, stats.variance, affine.map(\.a), affine.map(\.b)].map { $0.map(\.bitPattern) }
                + grads.map { $0!.scalars.map(\.bitPattern) }
        }
        #expect(run(byChannel: true) == run(byChannel: false), "\(shape) \(mode)")
    }
}
