import Foundation
import NN
import TensorCore
import TestSupport
import Testing

@Suite struct LayerShapeErrorTests {
    func expectShapeError(_ body: () throws -> Tensor, mentions: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let y = try body()
            Issue.record("expected a ShapeError, got output \(y.shape)", sourceLocation: sourceLocation)
        } catch let e as ShapeError {
            #expect(e.description.contains(mentions), "\(e)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func linear() {
        var rng = SeededRNG(seed: 1)
        let fc = Linear(4, 3, rng: &rng)
        expectShapeError({ try fc(.zeros([2, 5]), mode: .train) }, mentions: "[2, 5]")
        expectShapeError({ try fc(.zeros([4]), mode: .train) }, mentions: "Linear(4→3)")
        #expect((try? fc(.zeros([2, 4]), mode: .train))?.shape == [2, 3])
    }

    @Test func conv2d() {
        var rng = SeededRNG(seed: 1)
        let conv = Conv2d(3, 8, kernelSize: 3, stride: 1, padding: 0, rng: &rng)
        expectShapeError({ try conv(.zeros([1, 4, 8, 8]), mode: .train) }, mentions: "[1, 4, 8, 8]")
        expectShapeError({ try conv(.zeros([3, 8, 8]), mode: .train) }, mentions: "[N, 3, H, W]")
        expectShapeError({ try conv(.zeros([1, 3, 2, 8]), mode: .train) }, mentions: "[1, 3, 2, 8]")
        #expect((try? conv(.zeros([2, 3, 8, 8]), mode: .train))?.shape == [2, 8, 6, 6])
    }

    @Test func batchNorm() {
        let bn2d = BatchNorm(4, spatial: true), bn1d = BatchNorm(4, spatial: false)
        expectShapeError({ try bn2d(.zeros([2, 3, 4, 4]), mode: .train) }, mentions: "[N, 4, H, W]")
        expectShapeError({ try bn2d(.zeros([2, 4]), mode: .train) }, mentions: "BatchNorm2d(4)")
        expectShapeError({ try bn1d(.zeros([2, 4, 1, 1]), mode: .train) }, mentions: "BatchNorm1d(4)")
        expectShapeError({ try bn1d(.zeros([1, 4]), mode: .train) }, mentions: "more than one value per channel")
        #expect((try? bn1d(.zeros([1, 4]), mode: .eval))?.shape == [1, 4])
        expectShapeError({ try bn2d.normalizedReLU(.zeros([2, 3, 4, 4]), mode: .train) }, mentions: "[N, 4, H, W]")
        expectShapeError({ try bn2d.normalizedReLU(.zeros([2, 4, 4, 4]), adding: .zeros([2, 4, 2, 2]), mode: .train) }, mentions: "[2, 4, 2, 2]")
        expectShapeError({ try bn1d.normalizedReLU(.zeros([1, 4]), mode: .train) }, mentions: "more than one value per channel")
    }

    /// `normalizedReLU` is `relu(bn(x) + residual)` in every mode: fused with batch statistics
    /// (bit for bit, running statistics updated once), the ops in turn with running statistics.
    @Test(arguments: [ForwardMode.train, .trainFrozenStatistics, .eval])
    func normalizedReLUIsTheOpsInTurn(_ mode: ForwardMode) throws {
        var rng = SeededRNG(seed: 7)
        let x = rng.tensor([4, 3, 2, 2], -2, 2), residual = rng.tensor([4, 3, 2, 2], -1, 1)
        let fused = BatchNorm(3, spatial: true), inTurn = BatchNorm(3, spatial: true)
        for bn in [fused, inTurn] {
            bn.weight.value = Tensor(shape: [3], [0.5, 1, 2]); bn.bias.value = Tensor(shape: [3], [-0.2, 0, 0.3])
            bn.runningMean.value = Tensor(shape: [3], [0.1, -0.1, 0.2]); bn.runningVar.value = Tensor(shape: [3], [0.5, 2, 1])
        }
        let y = try fused.normalizedReLU(x, adding: residual, mode: mode)
        let reference = try (inTurn(x, mode: mode) + residual).relu()
        #expect(y.scalars == reference.scalars)
        #expect(fused.runningMean.value.scalars == inTurn.runningMean.value.scalars)
        #expect(fused.runningVar.value.scalars == inTurn.runningVar.value.scalars)
        #expect(fused.batchesTracked.value.scalars == inTurn.batchesTracked.value.scalars)
        #expect(try fused.normalizedReLU(x, mode: mode).scalars == inTurn(x, mode: mode).relu().scalars)
        // Without gradients (feature extraction) evaluation takes the one-pass kernel.
        if mode == .eval {
            let untracked = try withoutGradients { try fused.normalizedReLU(x, adding: residual, mode: mode) }
            #expect(untracked.scalars == reference.scalars)
        }
    }

    @Test func backboneRejectsWrongChannels() {
        var rng = SeededRNG(seed: 1)
        let net = SmallResNet(width: 2, rng: &rng)
        expectShapeError({ try net(.zeros([2, 1, 8, 8]), mode: .train) }, mentions: "Conv2d(3→2")
    }
}

@Suite struct NamingAndInitTests {
    @Test func smallResNetNamesMatchPyTorch() {
        var rng = SeededRNG(seed: 1)
        let net = SmallResNet(width: 2, rng: &rng)
        func bn(_ p: String) -> [String] { ["\(p).weight", "\(p).bias"] }
        func bnBuffers(_ p: String) -> [String] { ["\(p).running_mean", "\(p).running_var", "\(p).num_batches_tracked"] }
        func block(_ l: String, shortcut: Bool) -> [String] {
            ["\(l).conv1.weight"] + bn("\(l).bn1") + ["\(l).conv2.weight"] + bn("\(l).bn2")
                + (shortcut ? ["\(l).shortcut.0.weight"] + bn("\(l).shortcut.1") : [])
        }
        let expectedParameters = ["conv1.weight"] + bn("bn1") + block("layer1", shortcut: false)
            + block("layer2", shortcut: true) + block("layer3", shortcut: true)
        #expect(net.namedParameters().map(\.name) == expectedParameters)
        let expectedBuffers = bnBuffers("bn1") + ["layer1.bn1", "layer1.bn2", "layer2.bn1", "layer2.bn2", "layer2.shortcut.1",
                                                  "layer3.bn1", "layer3.bn2", "layer3.shortcut.1"].flatMap(bnBuffers)
        #expect(net.namedBuffers().map(\.name) == expectedBuffers)
        #expect(net.namedBuffers().filter { $0.buffer.kind == .int64 }.allSatisfy { $0.name.hasSuffix("num_batches_tracked") })
    }

    /// torchvision's `resnet18().state_dict()` without `fc`: 120 entries.
    @Test func resNet18NamesMatchTorchvision() {
        var rng = SeededRNG(seed: 1)
        let net = ResNet18(width: 4, rng: &rng)
        let names = net.stateTensors().map(\.name)
        #expect(names.count == 120)
        #expect(Set(names).count == 120)
        var expected: Set<String> = ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked"]
        for layer in 1...4 {
            for blockIndex in 0...1 {
                let p = "layer\(layer).\(blockIndex)"
                var modules = ["\(p).bn1", "\(p).bn2"]
                expected.formUnion(["\(p).conv1.weight", "\(p).conv2.weight"])
                if layer > 1 && blockIndex == 0 { expected.insert("\(p).downsample.0.weight"); modules.append("\(p).downsample.1") }
                for m in modules { expected.formUnion(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"].map { "\(m).\($0)" }) }
            }
        }
        #expect(Set(names) == expected)
        #expect(names.contains("layer2.0.downsample.0.weight"))
        #expect(net.featureDimension == 32)
    }

    /// Kaiming-uniform with a = √5 (PyTorch's default): U(±1/√fanIn), and not degenerate.
    @Test func kaimingUniformBounds() throws {
        var rng = SeededRNG(seed: 7)
        let net = ResNet18(width: 8, rng: &rng)
        let fc = Linear(64, 10, rng: &rng), conv = Conv2d(3, 16, kernelSize: 5, rng: &rng)
        var checked = 0
        func check(_ name: String, _ t: Tensor, fanIn: Int) {
            let bound = 1 / Float(fanIn).squareRoot(), v = t.scalars
            let maxAbs = v.map(abs).max() ?? 0
            #expect(maxAbs <= bound, "\(name): max |w| \(maxAbs) > bound \(bound)")
            #expect(maxAbs > 0.8 * bound, "\(name): max |w| \(maxAbs) is far below the bound \(bound)")
            let mean = v.reduce(0, +) / Float(v.count)
            #expect(abs(mean) < 0.2 * bound, "\(name): mean \(mean)")
            checked += 1
        }
        for (name, p) in net.namedParameters() where p.shape.count == 4 {
            check(name, p.value, fanIn: p.shape[1] * p.shape[2] * p.shape[3])
        }
        check("fc.weight", fc.weight.value, fanIn: 64)
        check("fc.bias", fc.bias!.value, fanIn: 64)
        check("conv.weight", conv.weight.value, fanIn: 75)
        #expect(checked == 23)
        // BatchNorm: γ = 1, β = 0.
        #expect(net.bn1.weight.value.scalars.allSatisfy { $0 == 1 } && net.bn1.bias.value.scalars.allSatisfy { $0 == 0 })
    }
}

@Suite struct BatchNormStatisticsTests {
    /// running ← (1 − m)·running + m·stat, with the unbiased variance for `running_var`.
    @Test func runningStatisticsUseUnbiasedVariance() throws {
        let bn = BatchNorm(2, spatial: true, momentum: 0.1)
        // x: N = 2, C = 2, H = 1, W = 2.
        let x = Tensor(shape: [2, 2, 1, 2], [1, 2, 10, 20,
                                             3, 6, 30, 40])
        let y = try bn(x, mode: .train)
        // Channel 0: {1, 2, 3, 6}: mean 3, biased var 3.5, unbiased 14/3.
        // Channel 1: {10, 20, 30, 40}: mean 25, biased var 125, unbiased 500/3.
        let mean1: [Float] = [0.1 * 3, 0.1 * 25]
        let var1: [Float] = [0.9 + 0.1 * 14 / 3, 0.9 + 0.1 * 500 / 3]
        #expect(allClose(bn.runningMean.value.scalars, mean1))
        #expect(allClose(bn.runningVar.value.scalars, var1))
        #expect(bn.batchesTracked.value.item == 1)
        let expectedY: [Float] = [1, 2, 3, 6].map { ($0 - 3) / (3.5 + 1e-5).squareRoot() }
        let y0 = [y.scalars[0], y.scalars[1], y.scalars[4], y.scalars[5]]
        #expect(allClose(y0, expectedY, atol: 1e-5))

        _ = try bn(x, mode: .train)
        let mean2: [Float] = [0.9 * 0.3 + 0.3, 0.9 * 2.5 + 2.5]
        #expect(allClose(bn.runningMean.value.scalars, mean2))
        #expect(bn.batchesTracked.value.item == 2)
        // Frozen statistics and eval leave the buffers alone.
        let frozen = bn.stateTensors().map { bits($0.tensor) }
        _ = try bn(x, mode: .trainFrozenStatistics)
        _ = try bn(x, mode: .eval)
        #expect(bn.stateTensors().map { bits($0.tensor) } == frozen)
    }
}

/// A tiny classifier for the convergence smoke test: Conv2d → BN → ReLU → global pool → Linear.
final class TinyCNN: Layer {
    let conv: Conv2d, bn: BatchNorm, fc: Linear
    init(classes: Int, rng: inout SeededRNG) {
        conv = Conv2d(3, 16, kernelSize: 3, padding: 1, rng: &rng)
        bn = BatchNorm(16, spatial: true)
        fc = Linear(16, classes, rng: &rng)
    }
    var children: [(String, any Module)] { [("conv", conv), ("bn", bn), ("fc", fc)] }
    func callAsFunction(_ x: Tensor, mode: ForwardMode) throws -> Tensor {
        try fc(bn(conv(x, mode: mode), mode: mode).relu().globalAveragePooled(), mode: mode)
    }
}

@Suite struct ConvergenceTests {
    @Test func tinyCNNMemorizesRandomLabels() throws {
        var rng = SeededRNG(seed: 2024)
        let model = TinyCNN(classes: 4, rng: &rng)
        let x = Tensor.normal([16, 3, 8, 8], rng: &rng)
        let labels = (0..<16).map { _ in Int(rng.next() % 4) }
        let params = model.optimizerParameters()
        let opt = SGD(params, momentum: 0.9)
        let start = Date()
        var loss = Float.infinity, steps = 0
        while loss >= 0.05 && steps < 400 {
            let l = try model(x, mode: .train).crossEntropy(targets: labels)
            loss = l.item
            try opt.step(l.gradients(for: params.map(\.parameter.value)), learningRate: 0.1)
            steps += 1
        }
        #expect(loss < 0.05, "cross-entropy \(loss) after \(steps) steps")
        #expect(Date().timeIntervalSince(start) < 10)
    }
}
