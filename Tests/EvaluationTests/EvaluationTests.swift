import Foundation
import ImageData
import NN
import TensorCore
import TestSupport
import Testing
@testable import Evaluation

/// Gaussian blobs around orthogonal class directions: linearly separable with a wide margin.
func separableFeatures(classes: Int, perClass: Int, dimension: Int, noise: Float, seed: UInt64) -> (Tensor, [Int]) {
    var rng = SeededRNG(seed: seed)
    var values: [Float] = [], labels: [Int] = []
    for i in 0..<(classes * perClass) {
        let c = i % classes
        for j in 0..<dimension { values.append((j == c ? 3 : 0) + 0.5 + noise * rng.uniform()) }
        labels.append(c)
    }
    return (Tensor(shape: [classes * perClass, dimension], values), labels)
}

@Suite struct TopKTests {
    @Test func ranksWithDeterministicTies() {
        // Row 0: label 2 is best. Row 1: label 0 ties with class 1 for the top score; the lower
        // index wins, so it is top-1. Row 2: label 3 ties with 0, 1, 2 (all zero) → rank 3.
        let scores = Tensor(shape: [4, 4], [0.1, 0.2, 0.9, 0.3,
                                             0.5, 0.5, 0.1, 0.0,
                                             0, 0, 0, 0,
                                             0.4, 0.3, 0.2, 0.1])
        let labels = [2, 1, 3, 3]
        #expect(TopK.correctCounts(scores: scores, labels: labels, ks: [1, 2, 3, 4]) == [1, 2, 2, 4])
        let acc = TopK.accuracy(scores: scores, labels: labels, k: 5)
        #expect(acc.top1 == 0.25)
        #expect(acc.k == 4)          // fewer than 5 classes: top-C
        #expect(acc.topK == 1.0)
    }

    @Test func nanScoresRankLast() {
        let scores = Tensor(shape: [2, 3], [Float.nan, 1, 2, 0, Float.nan, -1])
        #expect(TopK.correctCounts(scores: scores, labels: [0, 2], ks: [1, 2, 3]) == [0, 1, 2])
    }
}

@Suite struct KNNTests {
    /// The protocol written out plainly: Double cosine similarities, full sort.
    func bruteForce(train: Tensor, labels: [Int], test: Tensor, classes: Int, k: Int, t: Double) -> [[Double]] {
        let n = train.shape[0], m = test.shape[0], d = train.shape[1]
        func row(_ x: Tensor, _ i: Int) -> [Double] {
            let v = (0..<d).map { Double(x.scalars[i * d + $0]) }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / norm }
        }
        let bank = (0..<n).map { row(train, $0) }
        return (0..<m).map { i in
            let q = row(test, i)
            let sims = bank.enumerated().map { (j, b) in (j, zip(q, b).reduce(0) { $0 + $1.0 * $1.1 }) }
            let top = sims.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(k)
            var scores = [Double](repeating: 0, count: classes)
            for (j, s) in top { scores[labels[j]] += Foundation.exp(s / t) }
            return scores
        }
    }

    @Test(arguments: [(1, 0.07, 7), (20, 0.07, 512), (20, 0.5, 5), (200, 0.1, 64)])
    func matchesBruteForce(k: Int, t: Double, chunk: Int) {
        var rng = SeededRNG(seed: 11)
        let train = rng.tensor([150, 12]), test = rng.tensor([37, 12])
        let labels = (0..<150).map { ($0 * 7) % 6 }
        let testLabels = (0..<37).map { $0 % 6 }
        let knn = KNNClassifier(k: k, temperature: Float(t), chunkSize: chunk)
        let scores = knn.scores(train: train, trainLabels: labels, test: test, classCount: 6)
        let reference = bruteForce(train: train, labels: labels, test: test, classes: 6, k: min(k, 150), t: t)
        for i in 0..<37 {
            for c in 0..<6 {
                let got = Double(scores.scalars[i * 6 + c]), want = reference[i][c]
                #expect(abs(got - want) <= 1e-4 * max(1, abs(want)), "row \(i) class \(c): \(got) vs \(want)")
            }
        }
        let refTensor = Tensor(shape: [37, 6], reference.flatMap { $0.map(Float.init) })
        #expect(TopK.correctCounts(scores: scores, labels: testLabels, ks: [1, 5])
                == TopK.correctCounts(scores: refTensor, labels: testLabels, ks: [1, 5]))
    }

    @Test func resultCarriesProtocolParameters() {
        let (x, y) = separableFeatures(classes: 3, perClass: 10, dimension: 4, noise: 0.1, seed: 1)
        let bank = FeatureSet(features: x, labels: y, classCount: 3, view: "foreground", split: "train")
        let test = FeatureSet(features: x, labels: y, classCount: 3, view: "mixed-random", split: "test")
        let r = KNNClassifier(k: 50, temperature: 0.2).evaluate(train: bank, test: test)
        #expect(r.evaluationProtocol == .knn && r.probeView == "foreground" && r.testView == "mixed-random")
        #expect(r.k == 30)            // capped at the bank size
        #expect(r.temperature == 0.2)   // the Float's shortest decimal, not 0.20000000298…
        #expect(r.n == 30 && r.topK == 3 && r.top1 == 1)
        let json = String(decoding: try! JSONEncoder().encode(r), as: UTF8.self)
        for key in ["\"protocol\":\"knn\"", "\"test_view\":\"mixed-random\"", "\"probe_view\":\"foreground\"", "\"top1\":1", "\"k\":30"] {
            #expect(json.contains(key), "\(key) missing in \(json)")
        }
    }
}

@Suite struct LinearProbeTests {
    @Test func separableFeaturesReachFullAccuracy() {
        let (x, y) = separableFeatures(classes: 5, perClass: 40, dimension: 16, noise: 0.8, seed: 3)
        let (xt, yt) = separableFeatures(classes: 5, perClass: 20, dimension: 16, noise: 0.8, seed: 4)
        let model = LinearProbe().fit(features: x, labels: y, classCount: 5, view: "full")
        #expect(model.recipe.converged)
        #expect(model.recipe.trainTop1 == 1)
        let r = model.evaluate(FeatureSet(features: xt, labels: yt, classCount: 5, view: "full", split: "test"))
        #expect(r.top1 >= 0.99)
        #expect(r.top5 == 1)
        #expect(r.probe?.weightDecay == 1e-4 && r.probe?.optimizer == "lbfgs")
    }

    @Test func reachesTheOptimumOfTheConvexObjective() {
        // Overlapping classes: the optimum has a non-trivial gradient-free point; check that the
        // gradient there is small by finite differences of the objective along random directions.
        var rng = SeededRNG(seed: 5)
        let x = rng.tensor([60, 3]), y = (0..<60).map { $0 % 3 }
        let probe = LinearProbe(weightDecay: 1e-2, standardize: false)
        let model = probe.fit(features: x, labels: y, classCount: 3)
        #expect(model.recipe.converged)
        let xn = x.l2Normalized(axis: 1)
        func objective(_ w: [Float], _ b: [Float]) -> Double {
            let logits = Tensor.matmul(xn, Tensor(shape: [3, 3], w), transposeB: true) + Tensor(shape: [3], b)
            let ce = Double(logits.crossEntropy(targets: y).item)
            return ce + 0.5 * 1e-2 * w.reduce(0) { $0 + Double($1 * $1) }
        }
        let w = model.weight.scalars, b = model.bias.scalars
        let f0 = objective(w, b)
        for i in 0..<9 {
            var wp = w; wp[i] += 0.05
            var wm = w; wm[i] -= 0.05
            #expect(objective(wp, b) >= f0 - 1e-6 && objective(wm, b) >= f0 - 1e-6, "not a minimum along W[\(i)]")
        }
        #expect(abs(model.recipe.finalObjective - f0) < 1e-4)
    }

    @Test func standardizationIsFoldedIntoTheModel() {
        // Features in a narrow cone (all cosines ≈ 1), classes told apart by small offsets.
        var rng = SeededRNG(seed: 9)
        var values: [Float] = [], labels: [Int] = []
        for i in 0..<120 {
            let c = i % 3
            for j in 0..<5 { values.append(10 + (j == c ? 0.3 : 0) + 0.05 * rng.uniform()) }
            labels.append(c)
        }
        let x = Tensor(shape: [120, 5], values)
        let plain = LinearProbe(standardize: false).fit(features: x, labels: labels, classCount: 3)
        let standardized = LinearProbe().fit(features: x, labels: labels, classCount: 3)
        #expect(standardized.recipe.standardize && !plain.recipe.standardize)
        #expect(standardized.recipe.trainTop1 == 1)
        // The folded model applies to raw features like the plain one.
        let r = standardized.evaluate(FeatureSet(features: x, labels: labels, classCount: 3, view: "full", split: "test"))
        #expect(r.top1 == 1 && r.probe?.standardize == true)
    }

    @Test func isDeterministic() {
        let (x, y) = separableFeatures(classes: 4, perClass: 10, dimension: 6, noise: 2, seed: 8)
        let a = LinearProbe().fit(features: x, labels: y, classCount: 4)
        let b = LinearProbe().fit(features: x, labels: y, classCount: 4)
        #expect(a.weight.scalars == b.weight.scalars && a.bias.scalars == b.bias.scalars)
    }
}

/// A tiny split of random images with square foregrounds, built in memory.
func tinySplit(name: String, count: Int, classes: Int, size: Int = 8, seed: UInt64) -> DatasetSplit {
    var rng = SeededRNG(seed: seed)
    var pixels: [UInt8] = [], masks: [UInt8] = []
    for _ in 0..<count {
        pixels += (0..<(size * size * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next() >> 56) }
        masks += (0..<(size * size)).map { p in (p / size >= 2 && p / size < 6 && p % size >= 2 && p % size < 6) ? 255 : 0 }
    }
    return DatasetSplit(name: name, classes: (0..<classes).map { "c\($0)" }, size: size, pixels: pixels, masks: masks,
                        labels: (0..<count).map { $0 % classes }, paths: (0..<count).map { "s\($0).png" })
}

@Suite struct FeatureExtractionTests {
    @Test func frozenEvalModeAndBatchInvariant() throws {
        var rng = SeededRNG(seed: 1)
        let backbone = SmallResNet(width: 2, rng: &rng)
        // Give batch norm non-trivial running statistics so eval mode is visible.
        _ = try backbone(Tensor.normal([4, 3, 8, 8], rng: &rng), mode: .train)
        let before = backbone.stateTensors().map { $0.tensor.scalars }
        let split = tinySplit(name: "test", count: 7, classes: 3, seed: 2)
        let renderer = ViewRenderer(split: split)
        let norm = Normalization(of: split)
        let a = try FeatureExtractor.extract(backbone: backbone, renderer: renderer, view: .foreground, normalization: norm, batchSize: 3)
        let b = try FeatureExtractor.extract(backbone: backbone, renderer: renderer, view: .foreground, normalization: norm, batchSize: 256)
        #expect(backbone.stateTensors().map { $0.tensor.scalars } == before)
        #expect(a.features.shape == [7, 8] && !a.features.isTracked)
        #expect(a.view == "foreground" && a.split == "test" && a.labels == split.labels && a.classCount == 3)
        for (u, v) in zip(a.features.scalars, b.features.scalars) { #expect(abs(u - v) <= 1e-5 * max(1, abs(v))) }
        // Eval mode: one image alone gives the same features as inside a batch.
        let single = try withoutGradients {
            try backbone(BatchLoader.render(renderer, view: .foreground, indices: [4], normalization: norm), mode: .eval)
        }
        for j in 0..<8 { #expect(abs(single.scalars[j] - a.features.scalars[4 * 8 + j]) <= 1e-5) }
    }

    @Test func frozenEvaluationGivesBothProtocolsPerView() throws {
        var rng = SeededRNG(seed: 3)
        let backbone = SmallResNet(width: 2, rng: &rng)
        let train = tinySplit(name: "train", count: 12, classes: 3, seed: 4)
        let test = tinySplit(name: "test", count: 6, classes: 3, seed: 5)
        let rows = try FrozenEvaluation(probeViews: [.foreground], knn: KNNClassifier(k: 5))
            .run(backbone: backbone, train: ViewRenderer(split: train), test: ViewRenderer(split: test),
                 normalization: Normalization(of: train))
        #expect(rows.count == 2 * ViewKind.standard.count)
        #expect(rows.map(\.testView) == ViewKind.standard.flatMap { [$0.rawValue, $0.rawValue] })
        #expect(rows.allSatisfy { $0.probeView == "foreground" && $0.n == 6 && $0.trainCount == 12 && $0.featureDimension == 8 })
        #expect(rows.filter { $0.evaluationProtocol == .knn }.allSatisfy { $0.k == 5 && $0.probe == nil })
        #expect(rows.filter { $0.evaluationProtocol == .linear }.allSatisfy { $0.probe != nil && $0.k == nil })
        let table = EvaluationTable.render(rows)
        #expect(table.contains("mixed-random") && table.contains("knn (foreground)") && table.contains("linear (foreground)"))
    }
}
