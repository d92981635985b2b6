import Contrastive
import NN
import Testing
import TensorCore
@testable import ReferenceWorkloads

/// The benchmark and the parity replay train the real `Contrastive.SimCLR` through `PlainStepper`.
@Suite struct WorkloadTests {
    /// A `SmallResNet` + `SimCLR` + `PlainStepper` + SGD built here from the initializers, as the
    /// workload is specified (not through `ReferenceWorkload`).
    static func directStepper(width: Int, outDimension: Int) -> PlainStepper {
        var rng = SeededRNG(seed: 0)
        let method = SimCLR(backbone: SmallResNet(width: width, rng: &rng), projectorHidden: 4 * width,
                            projectorOutput: outDimension, temperature: 0.2, seed: 0)
        let sgd = SGD(method.trainableParameters(), momentum: 0.9, weightDecay: 5e-4, excludeFromWeightDecay: .none)
        return PlainStepper(method: method, optimizer: sgd)
    }

    static func state(_ module: any Module) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: module.stateTensors().map { ($0.name, $0.tensor.scalars) })
    }

    @Test func aBenchmarkStepIsExactlyAPlainStepperStep() throws {
        let run = SimCLRTrainingRun(width: 4, size: 8, batch: 4, totalSteps: 3)
        let direct = Self.directStepper(width: 4, outDimension: ReferenceWorkload.outDimension)
        let initial = Self.state(run.method)
        #expect(initial == Self.state(direct.method), "same initialization")
        for step in 0..<3 {
            let ours = try run.step()
            let theirs = try direct.step(view1: run.view1, view2: run.view2, learningRate: 0.1, step: step, totalSteps: 3)
            #expect(ours["loss"] == theirs["loss"])
            #expect(ours["loss"].map(\.isFinite) == true)
        }
        let after = Self.state(run.method)
        #expect(after == Self.state(direct.method))
        // Every parameter moved (weight decay reaches even the head's first bias, whose gradient
        // the batch norm after it cancels) and every batch norm counted its three batches.
        for p in run.method.namedParameters() { #expect(after[p.name] != initial[p.name], "\(p.name) did not change") }
        for b in run.method.namedBuffers() where b.name.hasSuffix("num_batches_tracked") { #expect(after[b.name] == [3]) }
        #expect(run.stepsTaken == 3)
    }

    @Test func theModelIsSimCLRWithTheSequentialHeadWithBias() {
        let method = ReferenceWorkload.simclr(width: 4)
        let head = method.namedParameters().map(\.name).filter { $0.hasPrefix("projector.") }
        #expect(head == ["projector.0.weight", "projector.0.bias", "projector.1.weight", "projector.1.bias",
                         "projector.3.weight", "projector.3.bias"])
        #expect(method.namedParameters().first { $0.name == "projector.0.weight" }?.parameter.shape == [16, 16])
        #expect(method.comparisonDimension == 64)
        #expect(method.temperature == 0.2)
        #expect(method.backbone is SmallResNet)
    }

    /// The gradients parity compares are the ones the stepper applies: a manual SGD step with the
    /// inspection's gradients lands on the stepper's parameters bit for bit, and the inspection
    /// leaves the batch-norm running statistics alone.
    @Test func inspectionGradientsAreTheOnesTheStepperApplies() throws {
        let inspected = ReferenceWorkload.simclr(width: 4, outDimension: 8), stepped = ReferenceWorkload.simclr(width: 4, outDimension: 8)
        var rng = SeededRNG(seed: 5)
        let v1 = Tensor.normal([4, 3, 8, 8], rng: &rng), v2 = Tensor.normal([4, 3, 8, 8], rng: &rng)
        let buffersBefore = inspected.namedBuffers().map(\.buffer.value.scalars)
        let inspection = try StepInspection(inspected, view1: v1, view2: v2)
        #expect(inspected.namedBuffers().map(\.buffer.value.scalars) == buffersBefore)
        #expect(inspection.features.shape == [8, 16] && inspection.projections.shape == [8, 8])
        try ReferenceWorkload.optimizer(for: inspected).step(inspection.gradients, learningRate: 0.1)
        let metrics = try ReferenceWorkload.stepper(for: stepped).step(view1: v1, view2: v2, learningRate: 0.1, step: 0, totalSteps: 1)
        #expect(metrics["loss"] == inspection.loss.item)
        let a = inspected.namedParameters(), b = stepped.namedParameters()
        for (x, y) in zip(a, b) { #expect(x.parameter.value.scalars == y.parameter.value.scalars, "\(x.name)") }
    }
}
