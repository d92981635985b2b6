import Foundation
import Testing
@testable import Contrastive
import NN
import TensorCore
import TestSupport

// Naive references: plain loops in Double over row-major [n, d] arrays.

private func rows(_ t: Tensor) -> [[Double]] {
    let (n, d) = (t.shape[0], t.shape[1]), s = t.scalars
    return (0..<n).map { i in (0..<d).map { Double(s[i * d + $0]) } }
}
private func normalize(_ v: [Double]) -> [Double] {
    let norm = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
    return v.map { $0 / norm }
}
private func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
private func cosine(_ a: [Double], _ b: [Double]) -> Double { dot(normalize(a), normalize(b)) }

private func naiveNTXent(_ z1: Tensor, _ z2: Tensor, t: Double) -> Double {
    let z = (rows(z1) + rows(z2)).map(normalize), n = z1.shape[0]
    var total = 0.0
    for i in 0..<(2 * n) {
        let positive = (i + n) % (2 * n)
        var denominator = 0.0
        for j in 0..<(2 * n) where j != i { denominator += Foundation.exp(dot(z[i], z[j]) / t) }
        total += -(dot(z[i], z[positive]) / t - Foundation.log(denominator))
    }
    return total / Double(2 * n)
}

private func naiveInfoNCE(_ q: Tensor, _ k: Tensor, _ queue: Tensor, t: Double) -> Double {
    let qs = rows(q).map(normalize), ks = rows(k).map(normalize), negatives = rows(queue).map(normalize)
    var total = 0.0
    for i in qs.indices {
        let positive = Foundation.exp(dot(qs[i], ks[i]) / t)
        let denominator = positive + negatives.reduce(0) { $0 + Foundation.exp(dot(qs[i], $1) / t) }
        total += -Foundation.log(positive / denominator)
    }
    return total / Double(qs.count)
}

private func naiveBarlow(_ z1: Tensor, _ z2: Tensor, lambda: Double, scale: Double) -> Double {
    func standardize(_ z: [[Double]]) -> [[Double]] {
        let n = Double(z.count), d = z[0].count
        var out = z
        for j in 0..<d {
            let mean = z.reduce(0) { $0 + $1[j] } / n
            let variance = z.reduce(0) { $0 + ($1[j] - mean) * ($1[j] - mean) } / n
            for i in z.indices { out[i][j] = (z[i][j] - mean) / (variance + 1e-5).squareRoot() }
        }
        return out
    }
    let a = standardize(rows(z1)), b = standardize(rows(z2)), n = Double(a.count), d = a[0].count
    var loss = 0.0
    for i in 0..<d { for j in 0..<d {
        let c = a.indices.reduce(0) { $0 + a[$1][i] * b[$1][j] } / n
        loss += i == j ? (1 - c) * (1 - c) : lambda * c * c
    } }
    return scale * loss
}

private func close(_ a: Float, _ b: Double, tolerance: Double = 1e-5) -> Bool {
    abs(Double(a) - b) <= tolerance * max(1, abs(b))
}

@Suite struct LossTests {
    var rng = SeededRNG(seed: 42)

    @Test mutating func ntXentMatchesNaiveReference() throws {
        let method = try #require(try makeMethod(name: .simclr, backbone: TinyBackbone(inputs: 12, features: 4, seed: 0),
                                                 options: MethodOptions(temperature: 0.5, projectorHidden: 4, projectorOutput: 3), seed: 0) as? SimCLR)
        let z1 = rng.tensor([3, 3]), z2 = rng.tensor([3, 3])
        let loss = method.baseLoss(ComparisonVectors(pairs: [(z1, z2)], features: z1)).item
        #expect(close(loss, naiveNTXent(z1, z2, t: 0.5)))
        // Hand-computed: N = 1 leaves only the positive in each row's softmax → loss 0.
        #expect(abs(ntXentLoss(Tensor(shape: [1, 2], [1, 0]), Tensor(shape: [1, 2], [0, 1]), temperature: 0.1).item) < 1e-6)
    }

    @Test mutating func mocoInfoNCEMatchesNaiveReference() throws {
        let method = try #require(try makeMethod(name: .mocov2, backbone: smallResNet(width: 2),
                                                 options: MethodOptions(temperature: 0.2, projectorHidden: 4, projectorOutput: 3, queueSize: 5), seed: 0) as? MoCoV2)
        let q1 = rng.tensor([2, 3]), q2 = rng.tensor([2, 3]), k1 = rng.tensor([2, 3]), k2 = rng.tensor([2, 3]), queue = rng.tensor([5, 3])
        let loss = method.baseLoss(ComparisonVectors(pairs: [(q1, k2), (q2, k1)], negatives: queue, features: q1)).item
        let expected = 0.5 * naiveInfoNCE(q1, k2, queue, t: 0.2) + 0.5 * naiveInfoNCE(q2, k1, queue, t: 0.2)
        #expect(close(loss, expected))
    }

    @Test mutating func byolAndSimSiamMatchNaiveReferences() throws {
        let byol = try tinyMethod("byol"), simsiam = try tinyMethod("simsiam")
        let p1 = rng.tensor([3, 4]), p2 = rng.tensor([3, 4]), z1 = rng.tensor([3, 4]), z2 = rng.tensor([3, 4])
        let vectors = ComparisonVectors(pairs: [(p1, z2), (p2, z1)], features: p1)
        func meanCos(_ a: Tensor, _ b: Tensor) -> Double {
            let (x, y) = (rows(a), rows(b))
            return x.indices.reduce(0) { $0 + cosine(x[$1], y[$1]) } / Double(x.count)
        }
        #expect(close(byol.baseLoss(vectors).item, (2 - 2 * meanCos(p1, z2)) + (2 - 2 * meanCos(p2, z1))))
        #expect(close(simsiam.baseLoss(vectors).item, -0.5 * meanCos(p1, z2) - 0.5 * meanCos(p2, z1)))
        // Hand-computed: identical vectors → 0 (BYOL); opposite vectors → +1 (SimSiam, two halves of 1).
        let same = ComparisonVectors(pairs: [(p1, p1), (p2, p2)], features: p1)
        #expect(abs(byol.baseLoss(same).item) < 1e-5)
        let opposite = ComparisonVectors(pairs: [(p1, -p1), (p2, -p2)], features: p1)
        #expect(abs(simsiam.baseLoss(opposite).item - 1) < 1e-5)
    }

    @Test mutating func barlowTwinsMatchesNaiveReference() throws {
        let method = try #require(try makeMethod(name: .barlowtwins, backbone: smallResNet(width: 2),
                                                 options: MethodOptions(projectorHidden: 4, projectorOutput: 3, lambda: 0.3, scale: 0.5), seed: 0) as? BarlowTwins)
        let z1 = rng.tensor([5, 3]), z2 = rng.tensor([5, 3])
        let loss = method.baseLoss(ComparisonVectors(pairs: [(z1, z2)], features: z1)).item
        #expect(close(loss, naiveBarlow(z1, z2, lambda: 0.3, scale: 0.5), tolerance: 1e-4))
    }

    @Test func lossesAreDifferentiableThroughTheMethods() throws {
        for name in allMethods {
            let method = try tinyMethod(name)
            let (v1, v2) = randomViews(count: 1)[0]
            let out = try method.loss(view1: v1, view2: v2, mode: .trainFrozenStatistics)
            let grads = out.loss.gradients(for: method.trainableParameters().map(\.parameter.value))
            #expect(grads.count == method.trainableParameters().count, "\(name): every trainable parameter gets a gradient")
            for key in ["loss", "pos_sim", "neg_sim", "feature_std", "output_std"] {
                #expect(out.metrics[key]?.isFinite == true, "\(name): metric \(key)")
            }
        }
    }
}

