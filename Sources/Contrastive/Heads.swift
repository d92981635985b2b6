import Foundation
import NN
import TensorCore

/// Batch normalization without affine parameters (`BatchNorm1d(affine=False)`): SimSiam's
/// last projector layer. Running statistics are kept as buffers (PyTorch's update rule).
/// Input and output `[N, C]`.
public final class AffineFreeBatchNorm: Layer {
    public let features: Int, eps: Float, momentum: Float
    public let runningMean: Buffer, runningVar: Buffer, batchesTracked: Buffer

    public init(_ features: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        (self.features, self.eps, self.momentum) = (features, eps, momentum)
        runningMean = Buffer(.zeros([features])); runningVar = Buffer(.ones([features]))
        batchesTracked = Buffer(.zeros([]), kind: .int64)
    }

    public var ownBuffers: [(String, Buffer)] { [("running_mean", runningMean), ("running_var", runningVar), ("num_batches_tracked", batchesTracked)] }

    public func callAsFunction(_ x: Tensor, mode: ForwardMode = .train) throws -> Tensor {
        guard x.rank == 2, x.shape[1] == features else { throw ShapeError(layer: "AffineFreeBatchNorm(\(features))", expected: "[N, \(features)]", actual: x.shape) }
        guard mode.usesBatchStatistics else {
            let scale = (runningVar.value + eps).sqrt().map { 1 / $0 }
            return .channelAffine(x, scale: scale, shift: -(runningMean.value * scale))
        }
        guard x.shape[0] > 1 else { throw ShapeError(layer: "AffineFreeBatchNorm(\(features))", expected: "N > 1 in training mode", actual: x.shape) }
        let (y, stats) = Tensor.batchNorm(x, gamma: .ones([features]), beta: .zeros([features]), eps: eps)
        if mode.updatesRunningStatistics {
            let m = momentum, unbias = Float(stats.count) / Float(stats.count - 1)
            runningMean.value.withMutableStorage { b in for c in 0..<b.count { b[c] = (1 - m) * b[c] + m * stats.mean[c] } }
            runningVar.value.withMutableStorage { b in for c in 0..<b.count { b[c] = (1 - m) * b[c] + m * stats.variance[c] * unbias } }
            batchesTracked.value.withMutableStorage { b in b[0] += 1 }
        }
        return y
    }
}

/// Builders of the MLP heads the methods use (layers named "0", "1", … like `torch.nn.Sequential`).
public enum Heads {
    /// `Linear(in→hidden) → BN → ReLU → Linear(hidden→out)` (SimCLR, BYOL projector/predictor).
    /// - Parameter firstBias: whether the first linear layer has a bias.
    public static func twoLayerBN(_ input: Int, hidden: Int, output: Int, firstBias: Bool = true, rng: inout SeededRNG) -> Sequential {
        Sequential([Linear(input, hidden, bias: firstBias, rng: &rng), BatchNorm(hidden, spatial: false), ReLU(),
                    Linear(hidden, output, rng: &rng)])
    }

    /// `Linear(in→hidden) → ReLU → Linear(hidden→out)` (MoCo v2's head, no BN).
    public static func twoLayer(_ input: Int, hidden: Int, output: Int, rng: inout SeededRNG) -> Sequential {
        Sequential([Linear(input, hidden, rng: &rng), ReLU(), Linear(hidden, output, rng: &rng)])
    }

    /// `Linear(in→h, no bias) → BN → ReLU → Linear(h→h, no bias) → BN → ReLU → Linear(h→out)`,
    /// optionally followed by an affine-free BN (SimSiam) — Barlow Twins and SimSiam projectors.
    public static func threeLayerBN(_ input: Int, hidden: Int, output: Int, finalBatchNorm: Bool, rng: inout SeededRNG) -> Sequential {
        var layers: [any Layer] = [Linear(input, hidden, bias: false, rng: &rng), BatchNorm(hidden, spatial: false), ReLU(),
                                   Linear(hidden, hidden, bias: false, rng: &rng), BatchNorm(hidden, spatial: false), ReLU(),
                                   Linear(hidden, output, bias: !finalBatchNorm, rng: &rng)]
        if finalBatchNorm { layers.append(AffineFreeBatchNorm(output)) }
        return Sequential(layers)
    }
}

/// A combination of a backbone and a projector, used as an EMA target (`backbone.*`, `projector.*`).
public final class EncoderWithHead: Module {
    public let backbone: any Backbone
    public let projector: Sequential
    public init(backbone: any Backbone, projector: Sequential) { self.backbone = backbone; self.projector = projector }
    public var children: [(String, any Module)] { [("backbone", backbone), ("projector", projector)] }
    /// `[N, 3, H, W]` → (features `[N, F]`, projection `[N, d]`).
    public func callAsFunction(_ x: Tensor, mode: ForwardMode) throws -> (features: Tensor, projection: Tensor) {
        let h = try backbone(x, mode: mode)
        return (h, try projector(h, mode: mode))
    }
}

/// Exponential moving averages of parameters (BYOL's target, MoCo's key encoder).
public enum MomentumUpdate {
    /// BYOL's cosine schedule `τ = τ_end − (τ_end − τ_base)(cos(π k / K) + 1) / 2`, from `τ_base`
    /// at k = 0 to `τ_end` at k = K (clamped beyond).
    public static func cosineTau(base: Float, final: Float, step: Int, totalSteps: Int) -> Float {
        guard totalSteps > 0 else { return final }
        let progress = min(max(Double(step) / Double(totalSteps), 0), 1)
        return Float(Double(final) - (Double(final) - Double(base)) * (Foundation.cos(Double.pi * progress) + 1) / 2)
    }

    /// `target ← τ·target + (1 − τ)·online` for every parameter, paired by dotted name.
    /// - Precondition: both modules have the same parameter names and shapes.
    public static func update(target: any Module, online: any Module, tau: Float) {
        let onlineByName = Dictionary(uniqueKeysWithValues: online.namedParameters().map { ($0.name, $0.parameter) })
        for (name, t) in target.namedParameters() {
            guard let o = onlineByName[name] else { preconditionFailure("MomentumUpdate: online network has no parameter '\(name)'") }
            let op = o.value.pointer
            var v = t.value
            v.withMutableStorage { b in for i in 0..<b.count { b[i] = tau * b[i] + (1 - tau) * op[i] } }
            t.value = v
        }
    }

    /// Copies every parameter and buffer of `source` into `target` (same names and shapes).
    public static func copyState(from source: any Module, to target: any Module) {
        let src = Dictionary(uniqueKeysWithValues: source.stateTensors().map { ($0.name, $0.tensor) })
        for (name, p) in target.namedParameters() {
            guard let t = src[name], t.shape == p.shape else { preconditionFailure("copyState: '\(name)' missing or of another shape in the source") }
            p.value = t
        }
        for (name, b) in target.namedBuffers() {
            guard let t = src[name], t.shape == b.value.shape else { preconditionFailure("copyState: buffer '\(name)' missing or of another shape in the source") }
            b.value = t.detached()
        }
    }
}

/// A freshly constructed backbone of the same architecture as `backbone`, holding a copy of its
/// parameters and buffers (the initial EMA target, as BYOL and MoCo initialize it).
/// - Throws: `ConfigurationError.unsupportedBackbone` for backbone types it cannot rebuild; pass
///   a target explicitly to the method's initializer instead.
public func architecturalCopy(of backbone: any Backbone) throws -> any Backbone {
    var rng = SeededRNG(seed: 0)  // values are overwritten below
    let copy: any Backbone
    switch backbone {
    case let b as SmallResNet: copy = SmallResNet(width: b.width, inChannels: b.conv1.inChannels, rng: &rng)
    case let b as ResNet18: copy = ResNet18(width: b.width, inChannels: b.conv1.inChannels, rng: &rng)
    default: throw ConfigurationError.unsupportedBackbone(String(describing: type(of: backbone)))
    }
    MomentumUpdate.copyState(from: backbone, to: copy)
    return copy
}

/// A copy of a head (same layer structure), for EMA targets.
func architecturalCopy(of head: Sequential) -> Sequential {
    var rng = SeededRNG(seed: 0)
    let layers: [any Layer] = head.layers.map { layer in
        switch layer {
        case let l as Linear: return Linear(l.inFeatures, l.outFeatures, bias: l.bias != nil, rng: &rng)
        case let b as BatchNorm: return BatchNorm(b.features, spatial: b.spatial, eps: b.eps, momentum: b.momentum)
        case let b as AffineFreeBatchNorm: return AffineFreeBatchNorm(b.features, eps: b.eps, momentum: b.momentum)
        case is ReLU: return ReLU()
        default: preconditionFailure("architecturalCopy: unsupported head layer \(type(of: layer))")
        }
    }
    let copy = Sequential(layers)
    MomentumUpdate.copyState(from: head, to: copy)
    return copy
}
