import Testing
@testable import Contrastive
import NN
import TensorCore
import TestSupport

@Suite struct MethodStateTests {
    @Test func mocoQueueEnqueuesAndWraps() throws {
        let moco = try #require(try makeMethod(name: .mocov2, backbone: smallResNet(width: 2),
                                               options: MethodOptions(projectorHidden: 4, projectorOutput: 2, queueSize: 5), seed: 0) as? MoCoV2)
        let before = moco.queue.value.scalars
        moco.enqueue(Tensor(shape: [3, 2], [1, 2, 3, 4, 5, 6]))
        var q = moco.queue.value.scalars
        #expect(Array(q[0..<6]) == [1, 2, 3, 4, 5, 6])
        #expect(Array(q[6..<10]) == Array(before[6..<10]))
        #expect(moco.queuePointer.value.item == 3)
        moco.enqueue(Tensor(shape: [3, 2], [7, 8, 9, 10, 11, 12]))  // rows 3, 4, then wraps to row 0
        q = moco.queue.value.scalars
        #expect(q == [11, 12, 3, 4, 5, 6, 7, 8, 9, 10])
        #expect(moco.queuePointer.value.item == 1)
    }

    @Test func mocoEnqueuesOnlyKeysOfRealTrainingPasses() throws {
        let moco = try #require(try tinyMethod("mocov2") as? MoCoV2)
        let (v1, v2) = randomViews(count: 1)[0]
        _ = try moco.comparisonVectors(view1: v1, view2: v2, mode: .trainFrozenStatistics, reusingTargetsOf: nil)
        moco.didStep(step: 0, totalSteps: 10)
        #expect(moco.queuePointer.value.item == 0, "a virtual pass must not enqueue")
        let vectors = try moco.comparisonVectors(view1: v1, view2: v2, mode: .train, reusingTargetsOf: nil)
        moco.didStep(step: 1, totalSteps: 10)
        #expect(moco.queuePointer.value.item == 8, "2N = 8 keys enqueued")
        // The queue holds k₁ then k₂ (L2-normalized).
        let k1 = vectors.pairs[1].second.scalars
        #expect(Array(moco.queue.value.scalars[0..<k1.count]) == k1)
    }

    @Test func emaUpdateArithmetic() throws {
        let byol = try #require(try makeMethod(name: .byol, backbone: smallResNet(width: 2),
                                               options: MethodOptions(projectorHidden: 4, projectorOutput: 3, predictorHidden: 4, emaBase: 0.9, emaFinal: 1.0), seed: 0) as? BYOL)
        // Move the online network away from the target (they start equal).
        var rng = SeededRNG(seed: 5)
        for p in byol.trainableParameters() { p.parameter.value = rng.tensor(p.parameter.shape) }
        let target = Dictionary(uniqueKeysWithValues: byol.target.namedParameters().map { ($0.name, $0.parameter.value.scalars) })
        let online = Dictionary(uniqueKeysWithValues: OnlineView(backbone: byol.backbone, projector: byol.projector).namedParameters().map { ($0.name, $0.parameter.value.scalars) })
        byol.didStep(step: 0, totalSteps: 100)  // τ = emaBase at step 0
        #expect(byol.currentTau == 0.9)
        for (name, p) in byol.target.namedParameters() {
            let expected = zip(target[name]!, online[name]!).map { 0.9 * $0 + (1 - 0.9) * $1 }
            #expect(maxAbsDifference(p.value, Tensor(shape: p.shape, expected)) < 1e-6, "\(name)")
        }
        #expect(target.count == online.count && target.count > 0)
    }

    @Test func byolCosineTauSchedule() {
        #expect(MomentumUpdate.cosineTau(base: 0.99, final: 1.0, step: 0, totalSteps: 100) == 0.99)
        #expect(MomentumUpdate.cosineTau(base: 0.99, final: 1.0, step: 100, totalSteps: 100) == 1.0)
        #expect(abs(MomentumUpdate.cosineTau(base: 0.99, final: 1.0, step: 50, totalSteps: 100) - 0.995) < 1e-7)
        // 1 − (1 − τ_base)(cos(π/4) + 1)/2 at a quarter of the run.
        let quarter = 1 - 0.01 * (Float(2).squareRoot() / 2 + 1) / 2
        #expect(abs(MomentumUpdate.cosineTau(base: 0.99, final: 1.0, step: 25, totalSteps: 100) - quarter) < 1e-6)
        var previous: Float = 0
        for s in 0...100 {
            let tau = MomentumUpdate.cosineTau(base: 0.99, final: 1.0, step: s, totalSteps: 100)
            #expect(tau >= previous)
            previous = tau
        }
    }

    @Test func targetsStartAsCopiesAndAreExcludedFromTraining() throws {
        for name in ["byol", "mocov2"] {
            let method = try tinyMethod(name)
            let trainable = Set(method.trainableParameters().map(\.name))
            let all = method.namedParameters()
            let targets = all.filter { !trainable.contains($0.name) }
            #expect(!targets.isEmpty && targets.allSatisfy { $0.name.hasPrefix("target.") || $0.name.hasPrefix("key_encoder.") })
            let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0.parameter.value.scalars) })
            for t in targets {
                let onlineName = String(t.name.drop { $0 != "." }.dropFirst())
                #expect(byName[onlineName] == byName[t.name], "\(name): \(t.name) starts equal to \(onlineName)")
            }
        }
    }

    @Test func invalidOptionsAreRejectedNamingTheOption() throws {
        func option(_ body: () throws -> Void) -> String? {
            do { try body(); return nil } catch let e as InvalidOption { return e.key } catch { return "other" }
        }
        #expect(option { _ = try makeMethod(name: .simclr, backbone: smallResNet(width: 2), options: MethodOptions(temperature: -0.1), seed: 0) } == "temperature")
        #expect(option { _ = try makeMethod(name: .mocov2, backbone: smallResNet(width: 2), options: MethodOptions(temperature: 0), seed: 0) } == "temperature")
        #expect(option { _ = try makeMethod(name: .byol, backbone: smallResNet(width: 2), options: MethodOptions(temperature: 0.2), seed: 0) } == "temperature")
        #expect(option { _ = try makeMethod(name: .mocov2, backbone: smallResNet(width: 2), options: MethodOptions(queueSize: 0), seed: 0) } == "queueSize")
        #expect(option { try ICLMSROptions(strata: 0).validate() } == "strata")
        #expect(option { try ICLMSROptions(weight: -1).validate() } == "weight")
        #expect(option { try ICLMSROptions(fdRadius: 0).validate() } == "fdRadius")
        #expect(option { try ICLMSROptions(metaInterval: 0).validate() } == "metaInterval")
        #expect(option { try ICLMSROptions(metaOptimizer: .sgd(lr: 0)).validate() } == "metaOptimizer.lr")
        #expect(option { try ICLMSROptions(metaOptimizer: .init(kind: .adam, momentum: 0.9)).validate() } == "metaOptimizer.momentum")
        #expect(option { try ICLMSROptions(metaOptimizer: .sgd(momentum: 1)).validate() } == "metaOptimizer.momentum")
        let method = try tinyMethod("simclr")
        #expect(option { _ = try ICLMSRStepper(method: method, optimizer: sgd(method), options: ICLMSROptions(strata: 0), seed: 0) } == "strata")
        let message = InvalidOption(key: "temperature", value: Float(-0.1), reason: "must be finite and > 0")
        #expect(message.description == "temperature: invalid value -0.1: must be finite and > 0")
        #expect(message.scoped("methodOptions").key == "methodOptions.temperature")
        // An option of another method is refused, not ignored.
        #expect(option { try MethodOptions(lambda: 0.1).validate(for: .simclr) } == "lambda")
    }

    @Test func defaultsScaleWithTheBackbone() throws {
        let simclr = try #require(try makeMethod(name: .simclr, backbone: smallResNet(width: 8), seed: 0) as? SimCLR)  // F = 32
        #expect((simclr.projector.layers[0] as? Linear)?.outFeatures == 128)
        #expect(simclr.comparisonDimension == 16 && simclr.temperature == 0.2)
        let bt = try #require(try makeMethod(name: .barlowtwins, backbone: smallResNet(width: 8), seed: 0) as? BarlowTwins)
        #expect(bt.comparisonDimension == 128 && bt.lambda == 0.0051 && bt.scale == 0.1)
    }
}
