import TensorCore

/// Batch normalization over `[N, C]` (`BatchNorm1d`) or `[N, C, H, W]` (`BatchNorm2d`).
///
/// Training mode normalizes with the batch's biased variance and, when the mode says so, updates
/// `running_mean`/`running_var` with momentum using the *unbiased* variance (PyTorch's rule);
/// evaluation mode uses the running statistics. γ = 1, β = 0 at initialization.
///
/// References: Ioffe & Szegedy, "Batch Normalization", ICML 2015.
public final class BatchNorm: Layer {
    public let features: Int, spatial: Bool
    public let eps: Float, momentum: Float
    public let weight: Parameter, bias: Parameter
    public let runningMean: Buffer, runningVar: Buffer, batchesTracked: Buffer

    /// - Parameter spatial: `true` for `BatchNorm2d` (input `[N, C, H, W]`), `false` for `BatchNorm1d`.
    public init(_ features: Int, spatial: Bool, eps: Float = 1e-5, momentum: Float = 0.1) {
        (self.features, self.spatial, self.eps, self.momentum) = (features, spatial, eps, momentum)
        weight = Parameter(.ones([features])); bias = Parameter(.zeros([features]))
        runningMean = Buffer(.zeros([features])); runningVar = Buffer(.ones([features]))
        batchesTracked = Buffer(.zeros([]), kind: .int64)
    }

    public var ownParameters: [(String, Parameter)] { [("weight", weight), ("bias", bias)] }
    public var ownBuffers: [(String, Buffer)] { [("running_mean", runningMean), ("running_var", runningVar), ("num_batches_tracked", batchesTracked)] }

    public func callAsFunction(_ x: Tensor, mode: ForwardMode = .train) throws -> Tensor {
        try checkShape(x)
        guard mode.usesBatchStatistics else { return runningAffine(x) }
        try checkBatch(x)
        let (y, stats) = Tensor.batchNorm(x, gamma: weight.value, beta: bias.value, eps: eps)
        if mode.updatesRunningStatistics { updateRunningStatistics(stats) }
        return y
    }

    /// `relu(self(x) + residual)` (`relu(self(x))` without `residual`): a ResNet block's BN → ReLU
    /// and BN → (+ shortcut) → ReLU, the same results bit for bit as the ops in turn. With batch
    /// statistics one fused op (`Tensor.batchNormReLU`); with running statistics
    /// `Tensor.channelAffineReLU` (one pass when no graph is recorded, as in feature extraction).
    public func normalizedReLU(_ x: Tensor, adding residual: Tensor? = nil, mode: ForwardMode = .train) throws -> Tensor {
        try checkShape(x)
        if let residual, residual.shape != x.shape {
            throw ShapeError(layer: "BatchNorm\(spatial ? "2d" : "1d")(\(features)) + residual", expected: "\(x.shape)", actual: residual.shape)
        }
        guard mode.usesBatchStatistics else {
            let (scale, shift) = runningScaleAndShift()
            return .channelAffineReLU(x, scale: scale, shift: shift, adding: residual)
        }
        try checkBatch(x)
        let (y, stats) = Tensor.batchNormReLU(x, gamma: weight.value, beta: bias.value, eps: eps, adding: residual)
        if mode.updatesRunningStatistics { updateRunningStatistics(stats) }
        return y
    }

    func checkShape(_ x: Tensor) throws {
        guard x.rank == (spatial ? 4 : 2), x.shape[1] == features else {
            throw ShapeError(layer: "BatchNorm\(spatial ? "2d" : "1d")(\(features))", expected: spatial ? "[N, \(features), H, W]" : "[N, \(features)]", actual: x.shape)
        }
    }

    /// Batch statistics need more than one value per channel.
    func checkBatch(_ x: Tensor) throws {
        guard x.count / features > 1 else {
            throw ShapeError(layer: "BatchNorm\(spatial ? "2d" : "1d")(\(features))", expected: "more than one value per channel in training mode", actual: x.shape)
        }
    }

    /// Evaluation mode: the per-channel affine map of the running statistics.
    func runningAffine(_ x: Tensor) -> Tensor {
        let (scale, shift) = runningScaleAndShift()
        return .channelAffine(x, scale: scale, shift: shift)
    }

    /// `(γ/√(running_var + eps), β − running_mean·scale)`, each `[features]`.
    func runningScaleAndShift() -> (scale: Tensor, shift: Tensor) {
        let scale = weight.value / (runningVar.value + eps).sqrt()
        return (scale, bias.value - runningMean.value.detached() * scale)
    }

    func updateRunningStatistics(_ stats: BatchStatistics) {
        let m = momentum, unbias = Float(stats.count) / Float(stats.count - 1)
        runningMean.value.withMutableStorage { b in for c in 0..<features { b[c] = (1 - m) * b[c] + m * stats.mean[c] } }
        runningVar.value.withMutableStorage { b in for c in 0..<features { b[c] = (1 - m) * b[c] + m * stats.variance[c] * unbias } }
        batchesTracked.value.withMutableStorage { b in b[0] += 1 }
    }
}
