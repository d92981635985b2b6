import Evaluation
import ImageData
import NN
import TensorCore
import Testing

/// A split whose class lives only in the background: class 0 on a white background, class 1 on
/// a black one, the same mid-gray foreground square in every image. Full images are separable;
/// foreground views (background filled gray) carry no class at all.
func backgroundOnlySplit(name: String, count: Int, size: Int = 8) -> DatasetSplit {
    var pixels: [UInt8] = [], masks: [UInt8] = []
    for i in 0..<count {
        for p in 0..<(size * size) {
            let inside = p / size >= 2 && p / size < 6 && p % size >= 2 && p % size < 6
            masks.append(inside ? 255 : 0)
            let value: UInt8 = inside ? 100 : (i % 2 == 0 ? 250 : 5)
            pixels += [value, value, value]
        }
    }
    return DatasetSplit(name: name, classes: ["white", "black"], size: size, pixels: pixels, masks: masks,
                        labels: (0..<count).map { $0 % 2 }, paths: (0..<count).map { "s\($0).png" })
}

@Suite struct FixedProbeTests {
    /// Each probe view's rows are exactly the probe fitted on that view's train features — the
    /// full-image probe reads the background class perfectly, the foreground probe cannot.
    @Test func eachProbeIsFittedOnItsNamedView() throws {
        var rng = SeededRNG(seed: 5)
        let backbone = SmallResNet(width: 2, rng: &rng)
        let train = ViewRenderer(split: backgroundOnlySplit(name: "train", count: 12))
        let test = ViewRenderer(split: backgroundOnlySplit(name: "test", count: 8))
        let normalization = Normalization(of: train.split)
        let evaluation = FrozenEvaluation(probeViews: [.full, .foreground], testViews: [.full, .onlyBackground], knn: KNNClassifier(k: 3))
        let rows = try evaluation.run(backbone: backbone, train: train, test: test, normalization: normalization)
        #expect(rows.count == 2 * 2 * 2)
        #expect(rows.map(\.probeView) == ["full", "full", "foreground", "foreground", "full", "full", "foreground", "foreground"])
        for probeView in [ViewKind.full, .foreground] {
            let trainFeatures = try FeatureExtractor.extract(backbone: backbone, renderer: train, view: probeView, normalization: normalization)
            let model = LinearProbe().fit(trainFeatures)
            for testView in [ViewKind.full, .onlyBackground] {
                let testFeatures = try FeatureExtractor.extract(backbone: backbone, renderer: test, view: testView, normalization: normalization)
                let linear = rows.first { $0.probeView == probeView.rawValue && $0.testView == testView.rawValue && $0.evaluationProtocol == .linear }
                let knn = rows.first { $0.probeView == probeView.rawValue && $0.testView == testView.rawValue && $0.evaluationProtocol == .knn }
                #expect(linear?.top1 == model.evaluate(testFeatures).top1)
                #expect(knn?.top1 == KNNClassifier(k: 3).evaluate(train: trainFeatures, test: testFeatures).top1)
            }
        }
        let full = rows.first { $0.probeView == "full" && $0.testView == "full" && $0.evaluationProtocol == .linear }
        #expect(full?.top1 == 1)
        // Foreground training features are identical for both classes: the probe cannot tell them apart.
        let foreground = rows.first { $0.probeView == "foreground" && $0.testView == "full" && $0.evaluationProtocol == .linear }
        #expect((foreground?.top1 ?? 1) <= 0.5)
    }

    @Test func probeChoicesResolveAgainstTheTrainView() {
        let options = EvaluationOptions(probeViews: [.trainView, .view(.full), .sameAsTest])
        #expect(options.resolved(trainView: .full).probeViews == [.view(.full), .sameAsTest])
        #expect(options.resolved(trainView: .foreground).probeViews == [.view(.foreground), .view(.full), .sameAsTest])
        let evaluation = options.makeEvaluation(trainView: .foreground)
        #expect(evaluation.probeViews == [.foreground, .full] && evaluation.sameAsTest)
        // same-as-test adds the test view itself, once.
        let pairs = FrozenEvaluation(probeViews: [.full], testViews: [.full, .mixedSame], sameAsTest: true).pairs
        #expect(pairs.map { "\($0.probe.rawValue)>\($0.test.rawValue)" } == ["full>full", "full>mixed-same", "mixed-same>mixed-same"])
        #expect(ProbeChoice(name: "same-as-test") == .sameAsTest && ProbeChoice(name: "sideways") == nil)
        #expect(ProbeChoice.names.contains("train-view") && ProbeChoice.view(.onlyBackground).description == "only-background")
    }
}
