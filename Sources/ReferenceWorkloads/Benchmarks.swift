import Contrastive
import Foundation
import NN
import TensorCore

/// Throughput figures of one benchmark row (median over repeats).
public struct BenchmarkResult: Codable, Sendable {
    public var name: String
    public var width: Int, size: Int, batch: Int
    public var imagesPerSecond: Double
    public var stepMilliseconds: Double
    public var gflops: Double
    public var peakRSSMegabytes: Double
    public var repeats: [Double]
    public var lastLoss: Float?
    /// The convolution kernels that ran (`Tensor.convolutionKernels`: `avx512-implicit`,
    /// `avx2-implicit`, `im2col-openblas`); `nil` when read from JSON written before it existed.
    public var kernels: String? = Tensor.convolutionKernels
    /// Outputs of this many bytes and more were written with streaming stores
    /// (`Tensor.streamingMinimumBytes`; `nil`: never, or JSON written before it existed).
    public var streamingMinimumBytes: Int? = Tensor.streamingMinimumBytes

    enum CodingKeys: String, CodingKey {
        case name, width = "w", size = "res", batch, imagesPerSecond = "images_per_s", stepMilliseconds = "step_ms",
             gflops, peakRSSMegabytes = "peak_rss_mb", repeats = "images_per_s_repeats", lastLoss = "last_loss", kernels,
             streamingMinimumBytes = "streaming_min_bytes"
    }
}

/// Timing protocol shared with `torch_ref.py`: `warmup` untimed steps, then `repeats` × `steps`.
public struct BenchmarkProtocol: Sendable {
    public var warmup = 3, steps = 10, repeats = 3
    public init(warmup: Int = 3, steps: Int = 10, repeats: Int = 3) { (self.warmup, self.steps, self.repeats) = (warmup, steps, repeats) }
}

public enum ReferenceBenchmarks {
    /// The reference SimCLR training step (`ReferenceWorkload`): `Contrastive.SimCLR` trained by
    /// `PlainStepper` on fixed random views, SGD lr 0.1, momentum 0.9, weight decay 5e-4 on all
    /// parameters, NT-Xent T = 0.2 — the step `backdrop train --method simclr` takes.
    public static func simclrStep(width: Int, size: Int, batch: Int, outDimension: Int = ReferenceWorkload.outDimension,
                                  protocol p: BenchmarkProtocol = .init(), progress: ((String) -> Void)? = nil) throws -> BenchmarkResult {
        let run = SimCLRTrainingRun(width: width, size: size, batch: batch, outDimension: outDimension,
                                    totalSteps: p.warmup + p.repeats * p.steps)
        var loss: Float = .nan
        func step() throws { loss = try run.step()["loss"] ?? .nan }
        for _ in 0..<p.warmup { try step() }
        var perRepeat: [Double] = [], stepTimes: [Double] = []
        for r in 0..<p.repeats {
            let t0 = Date()
            for _ in 0..<p.steps {
                let s0 = Date()
                try step()
                stepTimes.append(Date().timeIntervalSince(s0))
            }
            perRepeat.append(Double(p.steps * batch) / Date().timeIntervalSince(t0))
            progress?("  repeat \(r + 1)/\(p.repeats): \(String(format: "%.1f", perRepeat.last!)) images/s, loss \(loss)")
        }
        guard loss.isFinite else { throw ParityError("simclr-step: the loss became \(loss)") }
        let ips = median(perRepeat)
        let flops = ReferenceFlops.trainingStep(width: width, size: size, batch: batch, outDimension: outDimension)
        return BenchmarkResult(name: "train", width: width, size: size, batch: batch, imagesPerSecond: ips,
                               stepMilliseconds: 1000 * median(stepTimes), gflops: ips / Double(batch) * flops / 1e9,
                               peakRSSMegabytes: peakRSSMegabytes(), repeats: perRepeat, lastLoss: loss)
    }

    /// Eval-mode backbone forward without gradients on a random batch.
    public static func evalFeatures(width: Int, size: Int, batch: Int, protocol p: BenchmarkProtocol = .init()) throws -> BenchmarkResult {
        let backbone = ReferenceWorkload.simclr(width: width, seed: 0).backbone
        var rng = SeededRNG(seed: 1)
        let x = Tensor.normal([batch, 3, size, size], rng: &rng)
        func forward() throws { _ = try withoutGradients { try backbone(x, mode: .eval) } }
        for _ in 0..<p.warmup { try forward() }
        var perRepeat: [Double] = []
        for _ in 0..<p.repeats {
            let t0 = Date()
            for _ in 0..<p.steps { try forward() }
            perRepeat.append(Double(p.steps * batch) / Date().timeIntervalSince(t0))
        }
        let ips = median(perRepeat)
        let macs = ReferenceFlops.macsPerView(width: width, size: size, includeProjector: false).total
        return BenchmarkResult(name: "eval", width: width, size: size, batch: batch, imagesPerSecond: ips,
                               stepMilliseconds: 1000 * Double(batch) / ips, gflops: ips * 2 * Double(macs) / 1e9,
                               peakRSSMegabytes: peakRSSMegabytes(), repeats: perRepeat, lastLoss: nil)
    }

    /// The median (mean of the middle two for an even count; NaN when empty).
    public static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
    }

    /// Peak resident set size of this process (VmHWM), in MiB; 0 where /proc is unavailable.
    public static func peakRSSMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kb / 1024
        }
        return 0
    }
}
