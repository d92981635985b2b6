import Foundation
import Testing
@testable import Contrastive
import NN
import TensorCore
import TestSupport

// Naive references with extra negatives: plain loops in Double over row-major [n, d] arrays.

private func rowsOf(_ t: Tensor) -> [[Double]] {
    let (n, d) = (t.shape[0], t.shape[1]), s = t.scalars
    return (0..<n).map { i in (0..<d).map { Double(s[i * d + $0]) } }
}
private func unit(_ v: [Double]) -> [Double] {
    let norm = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
    return v.map { $0 / norm }
}
private func inner(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

/// NT-Xent where every one of the 2N anchors also has all M rows of `h` in its denominator.
private func naiveNTXentWithExtra(_ z1: Tensor, _ z2: Tensor, _ h: Tensor, t: Double) -> Double {
    let z = (rowsOf(z1) + rowsOf(z2)).map(unit), extra = rowsOf(h).map(unit), n = z1.shape[0]
    var total = 0.0
    for i in 0..<(2 * n) {
        let positive = (i + n) % (2 * n)
        var denominator = 0.0
        for j in 0..<(2 * n) where j != i { denominator += Foundation.exp(inner(z[i], z[j]) / t) }
        for e in extra { denominator += Foundation.exp(inner(z[i], e) / t) }
        total += -(inner(z[i], z[positive]) / t - Foundation.log(denominator))
    }
    return total / Double(2 * n)
}

/// InfoNCE whose negatives are the queue followed by the M extra rows.
private func naiveInfoNCEWithExtra(_ q: Tensor, _ k: Tensor, _ queue: Tensor, _ h: Tensor, t: Double) -> Double {
    let qs = rowsOf(q).map(unit), ks = rowsOf(k).map(unit), negatives = (rowsOf(queue) + rowsOf(h)).map(unit)
    var total = 0.0
    for i in qs.indices {
        let positive = Foundation.exp(inner(qs[i], ks[i]) / t)
        let denominator = positive + negatives.reduce(0) { $0 + Foundation.exp(inner(qs[i], $1) / t) }
        total += -Foundation.log(positive / denominator)
    }
    return total / Double(qs.count)
}

private func near(_ a: Float, _ b: Double, tolerance: Double = 1e-5) -> Bool {
    abs(Double(a) - b) <= tolerance * max(1, abs(b))
}

@Suite struct HardNegativeLossTests {
    var rng = SeededRNG(seed: 77)

    /// N = 1, T = 1, z₁ = (1, 0), z₂ = (0, 1), h = (1, 0): row z₁ has logits [−∞, 0, 1] (positive
    /// 0), row z₂ has [0, −∞, 0] (positive 0), so L = ½[log(1 + e) + log 2] ≈ 1.0032044; without h
    /// each row's softmax holds only its positive and L = 0.
    @Test mutating func ntXentWithExtraNegativesGoldenAndReference() {
        let z1 = Tensor(shape: [1, 2], [1, 0]), z2 = Tensor(shape: [1, 2], [0, 1]), h = Tensor(shape: [1, 2], [1, 0])
        let golden = 0.5 * (Foundation.log(1 + M_E) + Foundation.log(2.0))
        #expect(near(ntXentLoss(z1, z2, temperature: 1, extraNegatives: h).item, golden))
        #expect(abs(golden - 1.0032044) < 1e-6)
        #expect(abs(ntXentLoss(z1, z2, temperature: 1).item) < 1e-6)
        let a = rng.tensor([3, 4]), b = rng.tensor([3, 4]), extra = rng.tensor([3, 4])
        #expect(near(ntXentLoss(a, b, temperature: 0.5, extraNegatives: extra).item, naiveNTXentWithExtra(a, b, extra, t: 0.5)))
        #expect(ntXentLoss(a, b, temperature: 0.5, extraNegatives: extra).item > ntXentLoss(a, b, temperature: 0.5).item)
    }

    @Test mutating func ntXentWithExtraNegativesGradient() {
        let inputs = [rng.tensor([3, 4]), rng.tensor([3, 4]), rng.tensor([3, 4])]
        expectGradient(inputs, eps: 1e-3, atol: 5e-3, "NT-Xent with extra negatives") {
            ntXentLoss($0[0], $0[1], temperature: 0.5, extraNegatives: $0[2])
        }
    }

    /// N = 1, T = 1, q = k = (1, 0), queue = [(0, 1)], h = [(1, 0)]: logits [1, 0, 1], target 0,
    /// so L = log(2e + 1) − 1 ≈ 0.8619948; without h, L = log(e + 1) − 1.
    @Test mutating func infoNCEWithExtraNegativesGoldenAndReference() {
        let q = Tensor(shape: [1, 2], [1, 0]), queue = Tensor(shape: [1, 2], [0, 1]), h = Tensor(shape: [1, 2], [1, 0])
        let golden = Foundation.log(2 * M_E + 1) - 1
        #expect(abs(golden - 0.8619948) < 1e-6)
        #expect(near(infoNCELoss(query: q, key: q, queue: queue, temperature: 1, extraNegatives: h).item, golden))
        #expect(near(infoNCELoss(query: q, key: q, queue: queue, temperature: 1).item, Foundation.log(M_E + 1) - 1))
        let a = rng.tensor([3, 4]), k = rng.tensor([3, 4]), bank = rng.tensor([5, 4]), extra = rng.tensor([3, 4])
        #expect(near(infoNCELoss(query: a, key: k, queue: bank, temperature: 0.2, extraNegatives: extra).item,
                     naiveInfoNCEWithExtra(a, k, bank, extra, t: 0.2)))
    }

    @Test mutating func infoNCEWithExtraNegativesGradient() {
        let inputs = [rng.tensor([3, 4]), rng.tensor([3, 4]), rng.tensor([4, 4]), rng.tensor([3, 4])]
        expectGradient(inputs, eps: 1e-3, atol: 5e-3, "InfoNCE with extra negatives") {
            infoNCELoss(query: $0[0], key: $0[1], queue: $0[2], temperature: 0.5, extraNegatives: $0[3])
        }
    }

    /// SimCLR runs views and hard negatives through one online forward (3N) and its base loss and
    /// logit terms both include the hard negatives' projections.
    @Test func simclrAppendsHardNegativeProjections() throws {
        let method = try #require(try tinyMethod("simclr") as? SimCLR)
        let (v1, v2) = randomViews(count: 1)[0], hard = randomViews(count: 1, seed: 9)[0].0
        let vectors = try method.comparisonVectors(view1: v1, view2: v2, hardNegatives: hard, mode: .trainFrozenStatistics)
        let h = try #require(vectors.hardNegatives)
        #expect(h.shape == [4, 8] && vectors.features.shape[0] == 8)
        let (z1, z2) = vectors.pairs[0]
        let loss = method.baseLoss(vectors).item
        #expect(near(loss, naiveNTXentWithExtra(z1, z2, h, t: Double(method.temperature))))
        #expect(loss > ntXentLoss(z1, z2, temperature: method.temperature).item)
        let terms = method.logitTerms(vectors).map { $0.loss(logits: $0.logits).item }.reduce(0, +)
        #expect(near(terms, Double(loss)))
        let out = try method.loss(view1: v1, view2: v2, hardNegatives: hard, mode: .trainFrozenStatistics)
        #expect(out.metrics["hard_neg_sim"] != nil)
    }

    /// MoCo v2's hard negatives are momentum keys: they add to the loss for this batch only and the
    /// queue after the step is bit-identical to a step without them.
    @Test func mocoHardNegativesAreKeysAndNeverEnqueued() throws {
        let plain = try tinyMethod("mocov2") as! MoCoV2, hard = try tinyMethod("mocov2") as! MoCoV2
        let (v1, v2) = randomViews(count: 1)[0], negatives = randomViews(count: 1, seed: 9)[0].0
        let vectors = try hard.comparisonVectors(view1: v1, view2: v2, hardNegatives: negatives, mode: .trainFrozenStatistics)
        let keys = try #require(vectors.hardNegatives)
        #expect(keys.shape == [4, 8])
        let expected = vectors.pairs.map { naiveInfoNCEWithExtra($0.first, $0.second, vectors.negatives!, keys, t: Double(hard.temperature)) }
            .reduce(0) { $0 + 0.5 * $1 }
        #expect(near(hard.baseLoss(vectors).item, expected))
        let terms = hard.logitTerms(vectors).map { $0.loss(logits: $0.logits).item }.reduce(0, +)
        #expect(near(terms, Double(hard.baseLoss(vectors).item)))

        let a = try PlainStepper(method: plain, optimizer: sgd(plain)).step(view1: v1, view2: v2, learningRate: 0.1, step: 0, totalSteps: 2)
        let b = try PlainStepper(method: hard, optimizer: sgd(hard))
            .step(view1: v1, view2: v2, hardNegatives: negatives, learningRate: 0.1, step: 0, totalSteps: 2)
        #expect(b["loss"]! > a["loss"]!)
        #expect(hard.queuePointer.value.item == 8 && plain.queuePointer.value.item == 8)
        #expect(hard.queue.value.scalars == plain.queue.value.scalars)
    }

    /// Without hard negatives the new entry point is the two-view step, bit for bit.
    @Test func withoutHardNegativesTheStepIsUnchanged() throws {
        for name in ["simclr", "mocov2"] {
            let a = try tinyMethod(name), b = try tinyMethod(name)
            let (sa, sb) = (PlainStepper(method: a, optimizer: sgd(a)), PlainStepper(method: b, optimizer: sgd(b)))
            for (k, (v1, v2)) in randomViews(count: 2).enumerated() {
                _ = try sa.step(view1: v1, view2: v2, learningRate: 0.1, step: k, totalSteps: 2)
                _ = try sb.step(view1: v1, view2: v2, hardNegatives: nil, learningRate: 0.1, step: k, totalSteps: 2)
            }
            #expect(bitIdentical(sa.stateTensors(), sb.stateTensors()), "\(name)")
        }
    }

    /// Methods without negatives, and ICL-MSR, refuse hard negatives naming the key.
    @Test func hardNegativesAreRefusedWithoutNegatives() throws {
        let (v1, v2) = randomViews(count: 1)[0]
        func key(_ body: () throws -> Void) -> String? {
            do { try body(); return nil } catch let e as InvalidOption { return e.key } catch { return "other \(error)" }
        }
        for name in ["byol", "simsiam", "barlowtwins"] {
            let m = try tinyMethod(name)
            #expect(key { _ = try PlainStepper(method: m, optimizer: sgd(m)).step(view1: v1, view2: v2, hardNegatives: v1, learningRate: 0.1, step: 0, totalSteps: 1) }
                    == "intervention.hardNegatives", "\(name)")
            #expect(!(m is any HardNegativeContrastiveMethod))
        }
        let simclr = try tinyMethod("simclr")
        let msr = try ICLMSRStepper(method: simclr, optimizer: sgd(simclr), seed: 0)
        #expect(key { _ = try msr.step(view1: v1, view2: v2, hardNegatives: v1, learningRate: 0.1, step: 0, totalSteps: 1) } == "intervention.hardNegatives")
    }
}
