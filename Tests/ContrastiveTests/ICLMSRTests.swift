import Testing
@testable import Contrastive
import NN
import TensorCore
import TestSupport

@Suite struct ICLMSRTests {
    @Test(arguments: allMethods)
    func weightZeroLeavesTheBaseTrajectoryBitIdentical(_ name: String) throws {
        let views = randomViews(count: 3)
        let baseMethod = try tinyMethod(name), regularizedMethod = try tinyMethod(name)
        let plain = PlainStepper(method: baseMethod, optimizer: sgd(baseMethod))
        let icl = try ICLMSRStepper(method: regularizedMethod, optimizer: sgd(regularizedMethod),
                                    options: ICLMSROptions(strata: 4, weight: 0, metaInterval: 1), seed: 9)
        for (s, (v1, v2)) in views.enumerated() {
            let a = try plain.step(view1: v1, view2: v2, learningRate: 0.05, step: s, totalSteps: 3)
            let b = try icl.step(view1: v1, view2: v2, learningRate: 0.05, step: s, totalSteps: 3)
            #expect(a["loss"]!.bitPattern == b["loss"]!.bitPattern, "\(name) step \(s)")
            #expect(b["loss_meta"] != nil && b["meta_grad_norm"] != nil)
        }
        #expect(bitIdentical(baseMethod.stateTensors(), regularizedMethod.stateTensors()), "\(name): parameters and buffers")
        #expect(bitIdentical(plain.optimizer.stateTensors(), icl.optimizer.stateTensors()), "\(name): optimizer state")
    }

    @Test(arguments: ["simclr", "mocov2", "byol", "simsiam"])
    func oneZeroStratumEqualsTheBaseLoss(_ name: String) throws {
        let method = try tinyMethod(name)
        let regularizer = MetaSemanticRegularizer(dimension: method.comparisonDimension, options: ICLMSROptions(strata: 1), seed: 0)
        regularizer.strata.value = .zeros([1, method.comparisonDimension])
        let (v1, v2) = randomViews(count: 1)[0]
        let vectors = try method.comparisonVectors(view1: v1, view2: v2, mode: .trainFrozenStatistics, reusingTargetsOf: nil)
        let base = method.baseLoss(vectors).item, msr = regularizer.loss(vectors, method: method).item
        #expect(method.lossSeesOnlyNormalizedVectors)
        #expect(abs(base - msr) <= 1e-5 * max(1, abs(base)), "\(name): L_base \(base) vs L_MSR \(msr)")
    }

    @Test func gatedInjectionWithZeroStratumIsNormalizationToo() throws {
        let method = try tinyMethod("simclr")
        let regularizer = MetaSemanticRegularizer(dimension: method.comparisonDimension, options: ICLMSROptions(strata: 1, injection: .gated), seed: 0)
        regularizer.strata.value = .zeros([1, method.comparisonDimension])
        let (v1, v2) = randomViews(count: 1)[0]
        let vectors = try method.comparisonVectors(view1: v1, view2: v2, mode: .trainFrozenStatistics, reusingTargetsOf: nil)
        #expect(abs(method.baseLoss(vectors).item - regularizer.loss(vectors, method: method).item) < 1e-5)
    }

    /// The finite-difference hypergradient against `[L_meta(Φ + δe_j) − L_meta(Φ − δe_j)] / 2δ`,
    /// `L_meta(Φ) = L_base(θ − α ∇θ L_enc(θ; Φ))`, on a tiny SimCLR. With α = 1 this tiny model is
    /// strongly curved, so the radius is 1e-3 (at the default 1e-2 the O(r²) truncation of the
    /// central difference costs up to ~20% on single coordinates here; at 1e-3 it is < 1%).
    /// Both forms of `L_MSR` (`arithmetic-mean`, `geometric-mean`).
    @Test(arguments: ICLMSROptions.Form.allCases)
    func finiteDifferenceHypergradientMatchesBruteForce(_ form: ICLMSROptions.Form) throws {
        let method = SimCLR(backbone: TinyBackbone(inputs: 12, features: 6, seed: 1), projectorHidden: 8, projectorOutput: 4, temperature: 0.5, seed: 2)
        let alpha: Float = 1.0
        let stepper = try ICLMSRStepper(method: method, optimizer: sgd(method),
                                        options: ICLMSROptions(strata: 3, strataScale: 2, fdRadius: 1e-3, form: form), seed: 4)
        var rng = SeededRNG(seed: 11)
        let v1 = rng.tensor([6, 3, 2, 2]), v2 = rng.tensor([6, 3, 2, 2])
        let params = method.trainableParameters().map(\.parameter)
        let theta = params.map(\.value)

        func encoderGradient() throws -> (ComparisonVectors, [Tensor]) {
            let leaves = params.map(\.value)
            let vectors = try method.comparisonVectors(view1: v1, view2: v2, mode: .trainFrozenStatistics, reusingTargetsOf: nil)
            let grads = stepper.encoderObjective(vectors).enc.gradients(for: leaves)
            return (vectors, leaves.map { grads[$0]! })
        }
        func lMeta() throws -> Double {
            let (_, g) = try encoderGradient()
            for (p, (t, gi)) in zip(params, zip(theta, g)) { p.value = t - gi * alpha }
            defer { for (p, t) in zip(params, theta) { p.value = t } }
            return Double(method.baseLoss(try method.comparisonVectors(view1: v1, view2: v2, mode: .trainFrozenStatistics, reusingTargetsOf: nil)).item)
        }

        let (vectors, g) = try encoderGradient()
        let (hyperStore, metrics) = try stepper.hypergradient(view1: v1, view2: v2, vectors: vectors, theta: theta, gradient: g, alpha: alpha)
        for (p, t) in zip(params, theta) { p.value = t }
        let hyper = try #require(hyperStore)
        let strataGrad = try #require(hyper[stepper.regularizer.strata.value]).scalars
        let priorGrad = try #require(hyper[stepper.regularizer.priorLogits.value]).scalars
        #expect(metrics["meta_grad_norm"]! > 0)

        // The three largest strata coordinates and one prior logit.
        let strataCoordinates = strataGrad.indices.sorted { abs(strataGrad[$0]) > abs(strataGrad[$1]) }.prefix(3)
        let delta: Float = 1e-2
        func bruteForce(_ parameter: Parameter, _ j: Int) throws -> Double {
            let original = parameter.value
            var values = original.scalars
            values[j] += delta; parameter.value = Tensor(shape: original.shape, values)
            let plus = try lMeta()
            values[j] -= 2 * delta; parameter.value = Tensor(shape: original.shape, values)
            let minus = try lMeta()
            parameter.value = original
            return (plus - minus) / (2 * Double(delta))
        }
        let scale = Double(strataGrad.map { abs($0) }.max()!)
        #expect(scale > 1e-4, "the hypergradient is not trivially zero")
        for j in strataCoordinates {
            let reference = try bruteForce(stepper.regularizer.strata, j)
            #expect(abs(Double(strataGrad[j]) - reference) <= 0.03 * abs(reference) + 0.01 * scale,
                    "\(form) strata[\(j)]: finite difference \(strataGrad[j]) vs brute force \(reference)")
        }
        let reference = try bruteForce(stepper.regularizer.priorLogits, 0)
        #expect(abs(Double(priorGrad[0]) - reference) <= 0.03 * abs(reference) + 0.01 * scale,
                "\(form) prior_logits[0]: finite difference \(priorGrad[0]) vs brute force \(reference)")
    }

    @Test func metaStepRestoresTheEncoderAndMovesOnlyPhi() throws {
        let method = try tinyMethod("byol")
        let stepper = try ICLMSRStepper(method: method, optimizer: sgd(method), options: ICLMSROptions(strata: 4), seed: 3)
        let (v1, v2) = randomViews(count: 1)[0]
        // Reference: the same iteration without a meta step (metaInterval 2, odd step).
        let twin = try tinyMethod("byol")
        let noMeta = try ICLMSRStepper(method: twin, optimizer: sgd(twin), options: ICLMSROptions(strata: 4, metaInterval: 2), seed: 3)
        let strataBefore = stepper.regularizer.strata.value.scalars
        let m = try stepper.step(view1: v1, view2: v2, learningRate: 0.05, step: 0, totalSteps: 10)
        let n = try noMeta.step(view1: v1, view2: v2, learningRate: 0.05, step: 1, totalSteps: 10)
        #expect(n["loss_meta"] == nil && m["loss_meta"] != nil)
        // didStep's τ (the target and the `ema_tau` buffer) depends on the step index; compare
        // online parameters and buffers only.
        let online = { (x: any ContrastiveMethod) in x.stateTensors().filter { !$0.name.hasPrefix("target.") && $0.name != "ema_tau" } }
        #expect(bitIdentical(online(method), online(twin)), "the meta step leaves θ and BN statistics exactly as the encoder step left them")
        #expect(stepper.regularizer.strata.value.scalars != strataBefore, "Φ moved")
        for key in ["loss_base", "loss_msr", "loss_meta", "meta_grad_norm", "prior_entropy", "strata_cosine", "fd_epsilon"] {
            #expect(m[key]?.isFinite == true, "metric \(key)")
        }
    }

    @Test(arguments: allMethods)
    func smokeWithAndWithoutICLMSR(_ name: String) throws {
        let views = randomViews(count: 2, seed: 3)
        for regularized in [false, true] {
            let method = try tinyMethod(name)
            let stepper = try makeTrainingStepper(method: method, optimizer: sgd(method),
                                                  regularizer: regularized ? ICLMSROptions(strata: 4) : nil, seed: 5)
            for (s, (v1, v2)) in views.enumerated() {
                let metrics = try stepper.step(view1: v1, view2: v2, learningRate: 0.05, step: s, totalSteps: 2)
                #expect(metrics["loss"]?.isFinite == true, "\(name) regularized \(regularized) step \(s)")
                #expect(metrics.values.allSatisfy { $0.isFinite }, "\(name): \(metrics)")
            }
        }
    }

    @Test(arguments: ["mocov2", "byol"], [false, true])
    func resumeIsBitIdentical(_ name: String, _ regularized: Bool) throws {
        let views = randomViews(count: 4, seed: 8)
        let options: ICLMSROptions? = regularized ? ICLMSROptions(strata: 3, metaOptimizer: .adam()) : nil
        func build(seed: UInt64) throws -> any TrainingStepper {
            let method = try tinyMethod(name, seed: seed)
            return try makeTrainingStepper(method: method, optimizer: sgd(method), regularizer: options, seed: seed)
        }
        let straight = try build(seed: 1)
        for (s, (v1, v2)) in views.enumerated() { _ = try straight.step(view1: v1, view2: v2, learningRate: 0.05, step: s, totalSteps: 4) }

        let first = try build(seed: 1)
        for s in 0..<2 { _ = try first.step(view1: views[s].0, view2: views[s].1, learningRate: 0.05, step: s, totalSteps: 4) }
        let saved = Dictionary(uniqueKeysWithValues: first.stateTensors().map { ($0.name, $0.tensor) })
        let resumed = try build(seed: 2)  // different initialization: everything must come from the state
        try resumed.loadStateTensors(saved)
        for s in 2..<4 { _ = try resumed.step(view1: views[s].0, view2: views[s].1, learningRate: 0.05, step: s, totalSteps: 4) }
        #expect(bitIdentical(straight.stateTensors(), resumed.stateTensors()))

        var extra = saved
        extra["method.nonexistent"] = Tensor(0)
        var thrown: TrainingStateError?
        do { try resumed.loadStateTensors(extra) } catch let e as TrainingStateError { thrown = e }
        #expect(thrown == .unknownKey("method.nonexistent"))
    }
}
