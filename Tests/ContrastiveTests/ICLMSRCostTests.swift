import Foundation
import Testing
import Contrastive
import NN
import TensorCore
import TestSupport

/// ICL-MSR's cost per iteration relative to the base method (not part of the regular suite:
/// it takes about 90 s). Measured on 2 shared CPU cores (noisy, two runs): ICL-MSR with the
/// defaults costs ×2.3–2.8 (SimCLR), ×3.2–3.7 (MoCo v2: the 4096-key queue is stratified too),
/// ×2.3 (BYOL), ×2.7–3.4 (SimSiam), ×2.9–3.1 (Barlow Twins) a plain iteration; iterations
/// without a meta step cost ×1.0–1.8. Run it in a release build:
///
///     CONTRASTIVE_TIMING=1 swift test -c release -Xswiftc -enable-testing \
///         --scratch-path .build-contrastive --filter ICLMSRCost
///
/// Setting: SmallResNet(width: 16), 32×32 views, batch 64 (BN sees 128), default method heads,
/// ICL-MSR defaults (K = 16, metaInterval 1); the median of 4 timed iterations after 1 warm-up.
@Suite struct ICLMSRCost {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CONTRASTIVE_TIMING"] != nil))
    func costMultiplePerMethod() throws {
        var rng = SeededRNG(seed: 1)
        let views = (0..<5).map { _ in (rng.tensor([64, 3, 32, 32]), rng.tensor([64, 3, 32, 32])) }
        func seconds(_ name: String, _ options: ICLMSROptions?) throws -> Double {
            var init_ = SeededRNG(seed: 1)
            let method = try makeMethod(name: MethodName(rawValue: name)!, backbone: SmallResNet(width: 16, rng: &init_),
                                        options: name == "mocov2" ? MethodOptions(queueSize: 4096) : MethodOptions(), seed: 2)
            let stepper = try makeTrainingStepper(method: method, optimizer: SGD(method.trainableParameters(), momentum: 0.9, weightDecay: 5e-4),
                                                  regularizer: options, seed: 3)
            var times: [Double] = []
            for (s, (v1, v2)) in views.enumerated() {
                let start = ContinuousClock.now
                _ = try stepper.step(view1: v1, view2: v2, learningRate: 0.05, step: s, totalSteps: 100)
                let d = ContinuousClock.now - start
                if s > 0 { times.append(Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18) }
            }
            return times.sorted()[times.count / 2]
        }
        for name in MethodName.allCases.map(\.rawValue) {
            let plain = try seconds(name, nil)
            let shared = try seconds(name, ICLMSROptions())
            let recomputed = try seconds(name, ICLMSROptions(metaGradient: .recomputed))
            let interval4 = try seconds(name, ICLMSROptions(metaInterval: 4))
            print(String(format: "ICLMSR-COST %@: plain %.3f s, icl-msr %.3f s (×%.2f), recomputed %.3f s (×%.2f), no-meta-step iteration %.3f s (×%.2f)",
                         name, plain, shared, shared / plain, recomputed, recomputed / plain, interval4, interval4 / plain))
        }
    }
}
