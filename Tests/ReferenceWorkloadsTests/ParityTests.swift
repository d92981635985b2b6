import Foundation
import Testing
import TensorCore
@testable import ReferenceWorkloads

/// The committed dump is `python3 scripts/torch_ref.py --dump DIR` with default options
/// (w 4, 16 px, batch 4, out_dim 8, seed 0).
let parityFixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/parity-default")

@Suite struct ParityTests {
    @Test func defaultDumpMatchesPyTorchToFloat32RoundOff() throws {
        let dump = try ParityDump(directory: parityFixture)
        let rows = try ParityCheck().run(dump)
        // features, projections, loss; 33 step-1 gradients; 63 state tensors after step 1; loss,
        // 33 gradients and 63 state tensors of step 2; eval features.
        #expect(rows.count == 197)
        for r in rows { #expect(r.passed, "\(r.name): rel \(r.relError), abs \(r.maxAbsError)") }
        let worst = rows.map(\.relError).max() ?? 1
        #expect(worst < 5e-5)
    }

    /// The dump's state dict is the trained method's, name for name: PyTorch's
    /// `nn.Sequential` head (`projector.0.bias`, …) is `Contrastive.SimCLR`'s.
    @Test func theDumpNamesAreTheMethodsNames() throws {
        let dump = try ParityDump(directory: parityFixture)
        let method = ReferenceWorkload.simclr(width: dump.config.w, outDimension: dump.config.out_dim)
        let ours = Set(method.stateTensors().map(\.name))
        let theirs = Set(dump.tensors.keys.filter { $0.hasPrefix("init/") }.map { String($0.dropFirst("init/".count)) })
        #expect(ours == theirs, "ours only: \(ours.subtracting(theirs).sorted()); dump only: \(theirs.subtracting(ours).sorted())")
        #expect(theirs.contains("projector.0.bias") && theirs.contains("projector.1.running_mean"))
    }

    @Test func aPerturbedStepTwoGradientIsCaught() throws {
        var dump = try ParityDump(directory: parityFixture)
        var g = dump.tensors["step2/grad/projector.3.weight"]!
        g.withMutableStorage { $0[0] += 1e-2 }
        dump.tensors["step2/grad/projector.3.weight"] = g
        let failed = try ParityCheck().run(dump).filter { !$0.passed }.map(\.name)
        #expect(failed == ["step2/grad/projector.3.weight"])
    }

    /// The head's first bias has a gradient only of round-off (the batch norm after it cancels it);
    /// its row is scaled by the layer's weight gradient, and a real gradient there still fails.
    @Test func theVanishingBiasGradientIsScaledByItsLayerAndStillChecked() throws {
        var dump = try ParityDump(directory: parityFixture)
        let method = ReferenceWorkload.simclr(width: dump.config.w, outDimension: dump.config.out_dim)
        #expect(ParityCheck.vanishingGradients(of: method) == ["projector.0.bias": "projector.0.weight"])
        let row = try #require(try ParityCheck().run(dump).first { $0.name == "step1/grad/projector.0.bias" })
        #expect(row.passed && row.relError < 1e-5, "\(row)")
        var g = dump.tensors["step1/grad/projector.0.bias"]!
        g.withMutableStorage { $0[1] += 1e-3 }
        dump.tensors["step1/grad/projector.0.bias"] = g
        let failed = try ParityCheck().run(dump).filter { !$0.passed }.map(\.name)
        #expect(failed == ["step1/grad/projector.0.bias"])
    }

    @Test func aPerturbedReferenceIsCaught() throws {
        var dump = try ParityDump(directory: parityFixture)
        var g = dump.tensors["step1/grad/backbone.layer2.conv1.weight"]!
        g.withMutableStorage { $0[3] += 1e-2 }
        dump.tensors["step1/grad/backbone.layer2.conv1.weight"] = g
        let failed = try ParityCheck().run(dump).filter { !$0.passed }.map(\.name)
        #expect(failed == ["step1/grad/backbone.layer2.conv1.weight"])
    }

    @Test func missingDirectoryNamesTheFix() {
        #expect {
            _ = try ParityDump(directory: URL(fileURLWithPath: "/nonexistent-parity-dir"))
        } throws: { error in "\(error)".contains("torch_ref.py --dump") }
    }

    @Test func truncatedTensorFileNamesTheTensor() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parity-truncated-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: parityFixture, to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("input_view1.bin")
        try Data(try Data(contentsOf: file).prefix(100)).write(to: file)
        #expect {
            _ = try ParityDump(directory: dir)
        } throws: { error in "\(error)".contains("input/view1") && "\(error)".contains("bytes") }
    }

    @Test func flopCountsMatchTheReferenceScript() {
        // torch_ref.py --flops-only: 150.1 GFLOP/step for w=32, 32 px, batch 256; 38.0 for w=16.
        #expect(abs(ReferenceFlops.trainingStep(width: 32, size: 32, batch: 256) / 1e9 - 150.1) < 0.1)
        #expect(abs(ReferenceFlops.trainingStep(width: 16, size: 32, batch: 256) / 1e9 - 38.0) < 0.1)
        #expect(abs(ReferenceFlops.trainingStep(width: 32, size: 64, batch: 128) / 1e9 - 300.0) < 0.2)
    }
}
