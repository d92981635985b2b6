import Testing
import TensorCore
@testable import ImageData

@Suite struct BatchLoaderTests {
    static func split(count: Int = 10, size: Int = 8) -> DatasetSplit {
        var rng = SeededRNG(seed: 3)
        let pixels = (0..<(count * size * size * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let masks = (0..<(count * size * size)).map { $0 % size < size / 2 ? UInt8(255) : 0 }
        return DatasetSplit(name: "train", classes: ["a", "b"], size: size, pixels: pixels, masks: masks,
                            labels: (0..<count).map { $0 % 2 }, paths: (0..<count).map { "\($0)" })
    }

    @Test func batchesHaveTheRightShapesAndCoverTheEpoch() throws {
        let data = Self.split()
        let loader = try BatchLoader(renderer: ViewRenderer(split: data),
                                     configuration: LoaderConfiguration(batchSize: 3, normalization: Normalization(of: data), seed: 1))
        #expect(loader.batchesPerEpoch == 3)
        var seen: [Int] = []
        for batch in loader.epoch(0) {
            #expect(batch.view1.shape == [3, 3, 8, 8] && batch.view2.shape == [3, 3, 8, 8])
            #expect(batch.mask1.shape == [3, 1, 8, 8])
            #expect(batch.labels == batch.indices.map { $0 % 2 })
            #expect(batch.view1.scalars != batch.view2.scalars)
            seen += batch.indices
        }
        #expect(seen.count == 9 && Set(seen).count == 9)
        #expect(loader.order(epoch: 0) != loader.order(epoch: 1))
    }

    @Test func prefetchedBatchesEqualSynchronousOnesAndAreDeterministic() throws {
        let data = Self.split()
        let config = LoaderConfiguration(batchSize: 4, view: .foreground, preset: .asymmetric, seed: 7)
        let a = try BatchLoader(renderer: ViewRenderer(split: data), configuration: config)
        let b = try BatchLoader(renderer: ViewRenderer(split: data), configuration: config)
        for (k, batch) in a.epoch(2).enumerated() {
            let again = b.batch(epoch: 2, index: k)
            #expect(batch.indices == again.indices)
            #expect(batch.view1.scalars == again.view1.scalars && batch.view2.scalars == again.view2.scalars)
        }
    }

    @Test func normalizationUsesTheStatistics() throws {
        let data = Self.split(count: 4)
        let n = Normalization(mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25])
        let t = BatchLoader.render(ViewRenderer(split: data), view: .full, indices: [1], normalization: n)
        #expect(t.shape == [1, 3, 8, 8])
        let expected = (Float(data.pixels[64 * 3]) / 255 - 0.5) / 0.25
        #expect(abs(t.scalars[0] - expected) < 1e-5)
    }

    @Test func badBatchSizesAreErrors() {
        let data = Self.split(count: 4)
        #expect(throws: ImageDataError.self) { try BatchLoader(renderer: ViewRenderer(split: data), configuration: LoaderConfiguration(batchSize: 0)) }
        #expect(throws: ImageDataError.self) { try BatchLoader(renderer: ViewRenderer(split: data), configuration: LoaderConfiguration(batchSize: 5)) }
    }
}
