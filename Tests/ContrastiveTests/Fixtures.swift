import Contrastive
import NN
import TensorCore
import TestSupport

/// A tiny non-convolutional backbone for exact numeric checks: flatten → Linear → tanh.
final class TinyBackbone: Backbone {
    let fc: Linear
    var featureDimension: Int { fc.outFeatures }
    init(inputs: Int, features: Int, seed: UInt64) {
        var rng = SeededRNG(seed: seed)
        fc = Linear(inputs, features, rng: &rng)
    }
    var children: [(String, any Module)] { [("fc", fc)] }
    func callAsFunction(_ x: Tensor, mode: ForwardMode) throws -> Tensor {
        try fc(x.reshaped([x.shape[0], -1]), mode: mode).tanh()
    }
}

/// Small per-method options so every test runs in milliseconds.
func tinyOptions(_ name: String) -> MethodOptions {
    switch name {
    case "mocov2": return MethodOptions(projectorHidden: 16, projectorOutput: 8, queueSize: 16)
    case "byol", "simsiam": return MethodOptions(projectorHidden: 16, projectorOutput: 8, predictorHidden: 16)
    default: return MethodOptions(projectorHidden: 16, projectorOutput: 8)
    }
}

/// A method on `SmallResNet(width: 4)` for 8×8 images.
func tinyMethod(_ name: String, seed: UInt64 = 1) throws -> any ContrastiveMethod {
    var rng = SeededRNG(seed: seed)
    return try makeMethod(name: MethodName(rawValue: name)!, backbone: SmallResNet(width: 4, rng: &rng), options: tinyOptions(name), seed: seed &+ 100)
}

/// `count` pairs of random views `[n, 3, 8, 8]`.
func randomViews(count: Int, n: Int = 4, seed: UInt64 = 7) -> [(Tensor, Tensor)] {
    var rng = SeededRNG(seed: seed)
    return (0..<count).map { _ in (rng.tensor([n, 3, 8, 8]), rng.tensor([n, 3, 8, 8])) }
}

func sgd(_ method: any ContrastiveMethod) -> SGD {
    SGD(method.trainableParameters(), momentum: 0.9, weightDecay: 5e-4)
}

/// Whether two state lists hold the same names and bit-identical values.
func bitIdentical(_ a: [(name: String, tensor: Tensor)], _ b: [(name: String, tensor: Tensor)]) -> Bool {
    guard a.count == b.count else { return false }
    for (x, y) in zip(a, b) {
        guard x.name == y.name, x.tensor.shape == y.tensor.shape else { return false }
        if x.tensor.scalars.map(\.bitPattern) != y.tensor.scalars.map(\.bitPattern) { return false }
    }
    return true
}

let allMethods = ["simclr", "mocov2", "byol", "simsiam", "barlowtwins"]

func smallResNet(width: Int, seed: UInt64 = 3) -> SmallResNet {
    var rng = SeededRNG(seed: seed)
    return SmallResNet(width: width, rng: &rng)
}
