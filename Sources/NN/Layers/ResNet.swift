import TensorCore

/// Residual block: conv3×3(stride) → BN → ReLU → conv3×3 → BN, plus a shortcut (identity, or
/// conv1×1(stride) → BN when the shape changes), then ReLU.
///
/// Shapes: `[N, cin, H, W]` → `[N, cout, H/stride, W/stride]`.
/// References: He et al., "Deep Residual Learning for Image Recognition", CVPR 2016.
public final class BasicBlock: Layer {
    public let conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm
    /// `nil` for the identity shortcut.
    public let projection: Sequential?
    let shortcutName: String

    /// - Parameter shortcutName: `"shortcut"` (the CIFAR ResNet convention and our SmallResNet) or
    ///   `"downsample"` (torchvision's), so checkpoints carry the names PyTorch code expects.
    public init(_ cin: Int, _ cout: Int, stride: Int, shortcutName: String = "shortcut", rng: inout SeededRNG) {
        conv1 = Conv2d(cin, cout, kernelSize: 3, stride: stride, padding: 1, bias: false, rng: &rng)
        bn1 = BatchNorm(cout, spatial: true)
        conv2 = Conv2d(cout, cout, kernelSize: 3, stride: 1, padding: 1, bias: false, rng: &rng)
        bn2 = BatchNorm(cout, spatial: true)
        projection = (stride != 1 || cin != cout)
            ? Sequential([Conv2d(cin, cout, kernelSize: 1, stride: stride, padding: 0, bias: false, rng: &rng), BatchNorm(cout, spatial: true)])
            : nil
        self.shortcutName = shortcutName
    }

    public var children: [(String, any Module)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)] + (projection.map { [(shortcutName, $0)] } ?? [])
    }

    public func callAsFunction(_ x: Tensor, mode: ForwardMode = .train) throws -> Tensor {
        let h = try bn1.normalizedReLU(conv1(x, mode: mode), mode: mode)
        let s = try projection?(x, mode: mode) ?? x
        return try bn2.normalizedReLU(conv2(h, mode: mode), adding: s, mode: mode)
    }
}

/// A backbone mapping images `[N, 3, H, W]` to features `[N, featureDimension]`.
public protocol Backbone: Layer {
    var featureDimension: Int { get }
}

/// The reference backbone of the benchmark: stem conv3×3(3→w) → BN → ReLU; stages w→w (s1),
/// w→2w (s2), 2w→4w (s2) of one `BasicBlock` each; global average pool → `[N, 4w]`.
public final class SmallResNet: Backbone {
    public let width: Int
    public let conv1: Conv2d, bn1: BatchNorm, layer1: BasicBlock, layer2: BasicBlock, layer3: BasicBlock
    public var featureDimension: Int { 4 * width }

    public init(width: Int, inChannels: Int = 3, rng: inout SeededRNG) {
        self.width = width
        conv1 = Conv2d(inChannels, width, kernelSize: 3, stride: 1, padding: 1, bias: false, rng: &rng)
        bn1 = BatchNorm(width, spatial: true)
        layer1 = BasicBlock(width, width, stride: 1, rng: &rng)
        layer2 = BasicBlock(width, 2 * width, stride: 2, rng: &rng)
        layer3 = BasicBlock(2 * width, 4 * width, stride: 2, rng: &rng)
    }

    public var children: [(String, any Module)] {
        [("conv1", conv1), ("bn1", bn1), ("layer1", layer1), ("layer2", layer2), ("layer3", layer3)]
    }

    public func callAsFunction(_ x: Tensor, mode: ForwardMode = .train) throws -> Tensor {
        let stem = try bn1.normalizedReLU(conv1(x, mode: mode), mode: mode)
        return try layer3(layer2(layer1(stem, mode: mode), mode: mode), mode: mode).globalAveragePooled()
    }
}

/// ResNet-18 for small images (the CIFAR variant: 3×3 stride-1 stem, no max-pool), with
/// torchvision's parameter names (`layer1.0.conv1.weight`, `layer2.0.downsample.0.weight`).
/// Features: `[N, 8·width]` (512 for the standard width 64).
public final class ResNet18: Backbone {
    public let width: Int
    public let conv1: Conv2d, bn1: BatchNorm
    public let stages: [Sequential]
    public var featureDimension: Int { 8 * width }

    public init(width: Int = 64, inChannels: Int = 3, rng: inout SeededRNG) {
        self.width = width
        conv1 = Conv2d(inChannels, width, kernelSize: 3, stride: 1, padding: 1, bias: false, rng: &rng)
        bn1 = BatchNorm(width, spatial: true)
        var stages: [Sequential] = []
        var cin = width
        for (i, mult) in [1, 2, 4, 8].enumerated() {
            let cout = width * mult, stride = i == 0 ? 1 : 2
            stages.append(Sequential([
                BasicBlock(cin, cout, stride: stride, shortcutName: "downsample", rng: &rng),
                BasicBlock(cout, cout, stride: 1, shortcutName: "downsample", rng: &rng),
            ]))
            cin = cout
        }
        self.stages = stages
    }

    public var children: [(String, any Module)] {
        [("conv1", conv1), ("bn1", bn1)] + stages.enumerated().map { ("layer\($0.offset + 1)", $0.element) }
    }

    public func callAsFunction(_ x: Tensor, mode: ForwardMode = .train) throws -> Tensor {
        var h = try bn1.normalizedReLU(conv1(x, mode: mode), mode: mode)
        for stage in stages { h = try stage(h, mode: mode) }
        return h.globalAveragePooled()
    }
}
