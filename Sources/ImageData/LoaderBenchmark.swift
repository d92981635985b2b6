import Foundation

/// Measures the batch loader alone: how many images per second it turns into two augmented,
/// normalized views (the prefetch thread's work), over `batches` batches after one warm-up.
public enum LoaderBenchmark {
    public struct Result: Sendable {
        public var images: Int
        public var seconds: Double
        public var imagesPerSecond: Double { Double(images) / seconds }
    }

    public static func run(loader: BatchLoader, batches: Int) -> Result {
        _ = loader.batch(epoch: 0, index: 0)
        let start = DispatchTime.now().uptimeNanoseconds
        var images = 0, epoch = 0, done = 0
        while done < batches {
            for batch in loader.epoch(epoch) {
                images += batch.indices.count
                done += 1
                if done == batches { break }
            }
            epoch += 1
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Result(images: images, seconds: seconds)
    }
}
