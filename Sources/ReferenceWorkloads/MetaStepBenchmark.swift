import Contrastive
import Foundation
import NN
import TensorCore

/// One method's row of the ICL-MSR cost benchmark (`backdrop-bench meta-step`).
public struct MetaStepResult: Codable, Sendable {
    public var method: String
    public var width: Int, size: Int, batch: Int, queueSize: Int?
    /// The ICL-MSR options that shape the step's cost (`ICLMSROptions.metaInterval`, `.finiteDifference`).
    public var metaInterval: Int, finiteDifference: String
    /// Median over repeats of each repeat's mean step time, in ms.
    public var plainMilliseconds: Double, iclmsrMilliseconds: Double
    /// Median over repeats of `iclmsr / plain` of the same repeat (each repeat alternates the two).
    public var ratio: Double
    public var plainRepeats: [Double], iclmsrRepeats: [Double], ratioRepeats: [Double]
    /// Mean time per timed ICL-MSR step of each `ICLMSRPhase`, in ms (phases that never ran are absent).
    public var phaseMilliseconds: [String: Double]
    public var plainLoss: Float, iclmsrLoss: Float

    enum CodingKeys: String, CodingKey {
        case method, width = "w", size = "res", batch, queueSize = "queue", metaInterval = "meta_interval",
             finiteDifference = "finite_difference", plainMilliseconds = "plain_ms",
             iclmsrMilliseconds = "iclmsr_ms", ratio, plainRepeats = "plain_ms_repeats", iclmsrRepeats = "iclmsr_ms_repeats",
             ratioRepeats = "ratio_repeats", phaseMilliseconds = "iclmsr_phases_ms", plainLoss = "plain_loss", iclmsrLoss = "iclmsr_loss"
    }
}

extension ReferenceBenchmarks {
    /// The plain step against the ICL-MSR step of `method` (`MetaStepPair`): `warmup` steps of
    /// each, then `repeats` × `steps` pairs, each pair one plain step then one ICL-MSR step, so
    /// both sample the same machine conditions. Each repeat yields both mean step times and their
    /// ratio; the result reports medians over repeats, and the ICL-MSR step's phases
    /// (`ICLMSRStepper.phaseObserver`) as means over every timed step. With `metaInterval` n, make
    /// `steps` a multiple of n so that every repeat holds the same number of meta steps.
    /// - Throws: when a loss stops being finite.
    public static func metaStep(method: MethodName, shape: MetaStepShape = .init(), options: ICLMSROptions = .init(),
                                protocol p: BenchmarkProtocol = .init(), progress: ((String) -> Void)? = nil) throws -> MetaStepResult {
        let pair = try MetaStepPair(method: method, shape: shape, totalSteps: p.warmup + p.repeats * p.steps, options: options)
        var plainLoss: Float = .nan, iclLoss: Float = .nan
        for _ in 0..<p.warmup {
            plainLoss = try pair.plainStep()
            iclLoss = try pair.iclmsrStep()
        }
        var phaseSeconds: [ICLMSRPhase: Double] = [:]
        var plainRepeats: [Double] = [], iclRepeats: [Double] = [], ratios: [Double] = []
        for r in 0..<p.repeats {
            var plainSeconds = 0.0, iclSeconds = 0.0
            for _ in 0..<p.steps {
                var t0 = DispatchTime.now().uptimeNanoseconds
                plainLoss = try pair.plainStep()
                plainSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
                pair.iclmsr.phaseObserver = { phaseSeconds[$0, default: 0] += $1 }
                t0 = DispatchTime.now().uptimeNanoseconds
                iclLoss = try pair.iclmsrStep()
                iclSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
                pair.iclmsr.phaseObserver = nil
            }
            plainRepeats.append(1000 * plainSeconds / Double(p.steps))
            iclRepeats.append(1000 * iclSeconds / Double(p.steps))
            ratios.append(iclSeconds / plainSeconds)
            progress?(String(format: "  %@ repeat %d/%d: plain %.0f ms, icl-msr %.0f ms (×%.2f)", method.rawValue, r + 1, p.repeats,
                             plainRepeats.last!, iclRepeats.last!, ratios.last!))
        }
        guard plainLoss.isFinite, iclLoss.isFinite else {
            throw ParityError("meta-step \(method.rawValue): the loss became \(plainLoss) (plain), \(iclLoss) (icl-msr)")
        }
        let timedSteps = Double(p.repeats * p.steps)
        return MetaStepResult(method: method.rawValue, width: shape.width, size: shape.size, batch: shape.batch,
                              queueSize: method == .mocov2 ? shape.queueSize : nil,
                              metaInterval: options.metaInterval, finiteDifference: options.finiteDifference.rawValue,
                              plainMilliseconds: median(plainRepeats), iclmsrMilliseconds: median(iclRepeats), ratio: median(ratios),
                              plainRepeats: plainRepeats, iclmsrRepeats: iclRepeats, ratioRepeats: ratios,
                              phaseMilliseconds: Dictionary(uniqueKeysWithValues: phaseSeconds.map { ($0.key.rawValue, 1000 * $0.value / timedSteps) }),
                              plainLoss: plainLoss, iclmsrLoss: iclLoss)
    }
}
