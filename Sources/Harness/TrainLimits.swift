import Foundation
import NN
import TensorCore

/// The largest values a training configuration may state, checked by `TrainConfig.validate()`
/// before any data loads or any cell is claimed, so that an absurd value is a clear error
/// naming its key instead of an integer overflow, a failed allocation or a run of years.
///
/// The limits are generous (far beyond any experiment in `Experiments/`) but keep every derived
/// quantity (steps, warm-up steps, head and queue sizes, activation memory) well inside `Int`
/// and inside the memory of the machine.
public enum TrainLimits {
    /// `train.epochs` ≤ 100 000. With at most `Int32.max` steps per epoch, epochs × steps
    /// stays far below `Int.max`.
    public static let maxEpochs = 100_000
    /// Sweep points of one spec (the product of its `sweep:` axes).
    public static let maxSweepPoints = 1_000
    /// `train.batchSize` ≤ 65 536 images.
    public static let maxBatchSize = 65_536
    /// `schedule.warmupEpochs` ≤ 100 000 (the epoch limit); it is converted to steps.
    public static let maxWarmupEpochs = Double(maxEpochs)
    /// Seeds lie in 0…2^63−1 (the store keeps them as signed 64-bit integers).
    public static let maxSeed = UInt64(Int64.max)
    /// `projectorHidden`, `projectorOutput`, `predictorHidden` ≤ 16 384 units
    /// (a 16 384 × 16 384 layer is already 1 GiB of weights).
    public static let maxHeadWidth = 16_384
    /// `methodOptions.mocov2.queueSize` ≤ 65 536 keys.
    public static let maxQueueSize = 65_536
    /// `iclmsr.strata` ≤ 4 096 strata.
    public static let maxStrata = 4_096
    /// `evaluation.knn.k` ≤ 100 000 neighbours.
    public static let maxKNNNeighbours = 100_000
    /// `evaluation.probe.maxIterations` ≤ 1 000 000.
    public static let maxProbeIterations = 1_000_000
    /// Bytes of activations kept per image, per pixel and per first-stage channel by one
    /// training step (both views, the stage's convolutions and their im2col buffers, float32):
    /// a deliberately low estimate, so a refused configuration could never have run.
    public static let activationBytesPerPixelChannel: UInt64 = 2 * 4 * 16

    /// A lower estimate of one training step's peak memory in bytes: 2 views × batch ×
    /// imageSize² × width × 64 bytes (saturating, never overflows).
    public static func estimatedPeakBytes(imageSize: Int, width: Int, batchSize: Int) -> UInt64 {
        let factors = [UInt64(max(0, imageSize)), UInt64(max(0, imageSize)), UInt64(max(0, width)), UInt64(max(0, batchSize)),
                       activationBytesPerPixelChannel]
        return factors.reduce(1) { product, f in
            let (p, overflow) = product.multipliedReportingOverflow(by: f)
            return overflow ? .max : p
        }
    }

    /// Checks the size limits of `c` (the ranges of the individual options are checked by the
    /// rooms that own them).
    /// - Parameter memoryBytes: the memory a run may use (the machine's physical memory).
    /// - Throws: `InvalidOption` naming the key and the limit.
    static func check(_ c: TrainConfig, memoryBytes: UInt64) throws {
        func bad(_ key: String, _ value: Any, _ reason: String) -> InvalidOption { InvalidOption(key: key, value: value, reason: reason) }
        if c.train.epochs > maxEpochs {
            throw bad("train.epochs", c.train.epochs, "at most \(grouped(maxEpochs)) epochs are allowed")
        }
        if c.train.batchSize > maxBatchSize {
            throw bad("train.batchSize", c.train.batchSize, "at most \(grouped(maxBatchSize)) images per batch are allowed")
        }
        if let w = c.schedule.warmupEpochs, w.isFinite, w > maxWarmupEpochs {
            throw bad("schedule.warmupEpochs", w, "at most \(grouped(maxEpochs)) warm-up epochs are allowed (and at most train.epochs take effect)")
        }
        if c.seed > maxSeed { throw bad("seed", c.seed, "seeds lie in 0…\(maxSeed) (2^63−1)") }
        let o = c.methodOptions
        for (key, v) in [("projectorHidden", o.projectorHidden), ("projectorOutput", o.projectorOutput), ("predictorHidden", o.predictorHidden)] {
            if let v, v > maxHeadWidth { throw bad("methodOptions.\(key)", v, "head widths are at most \(grouped(maxHeadWidth))") }
        }
        if let q = o.queueSize, q > maxQueueSize {
            throw bad("methodOptions.queueSize", q, "the MoCo queue holds at most \(grouped(maxQueueSize)) keys")
        }
        if let k = c.iclmsr?.strata, k > maxStrata { throw bad("iclmsr.strata", k, "at most \(grouped(maxStrata)) strata are allowed") }
        if c.evaluation.knn.k > maxKNNNeighbours {
            throw bad("evaluation.knn.k", c.evaluation.knn.k, "at most \(grouped(maxKNNNeighbours)) neighbours are allowed")
        }
        if c.evaluation.probe.maxIterations > maxProbeIterations {
            throw bad("evaluation.probe.maxIterations", c.evaluation.probe.maxIterations,
                      "at most \(grouped(maxProbeIterations)) iterations are allowed")
        }
        let peak = estimatedPeakBytes(imageSize: c.imageSize, width: c.model.width, batchSize: c.train.batchSize)
        if peak > memoryBytes {
            throw bad("train.batchSize", c.train.batchSize,
                      "imageSize \(c.imageSize) × model.width \(c.model.width) × batchSize \(c.train.batchSize) needs at least "
                          + "\(gib(peak)) GiB per training step, more than this machine's \(gib(memoryBytes)) GiB; "
                          + "use a smaller batchSize, width or imageSize")
        }
    }

    /// `100000` → `100 000`.
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(" ") }
            out.append(d)
        }
        return out
    }

    static func gib(_ bytes: UInt64) -> String { String(format: "%.1f", Double(bytes) / 1_073_741_824) }
}
