import TensorCore

/// The backbones a configuration can name (`model.backbone` in a spec).
public enum BackboneArchitecture: String, CaseIterable, Codable, Sendable {
    /// `SmallResNet(width)`: three one-block stages, `[N, 4·width]` features (32-px images).
    case smallResNet = "small-resnet"
    /// CIFAR ResNet-18 with torchvision's names, `[N, 8·width]` features.
    case resnet18

    /// A freshly initialized backbone of this architecture.
    /// - Parameters: width: channels of the first stage; seed: the initialization seed.
    public func make(width: Int, seed: UInt64) -> any Backbone {
        var rng = SeededRNG(seed: seed)
        switch self {
        case .smallResNet: return SmallResNet(width: width, rng: &rng)
        case .resnet18: return ResNet18(width: width, rng: &rng)
        }
    }
}
