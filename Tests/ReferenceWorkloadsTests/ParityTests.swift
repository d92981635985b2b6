import Foundation
import Testing
import TensorCore
@testable import ReferenceWorkloads

/// The committed dump is `python3 scripts/torch_ref.py --dump DIR` with default options.
let parityFixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/parity-default")

@Suite struct ParityTests {
    @Test func defaultDumpMatchesPyTorchToFloat32RoundOff() throws {
        let dump = try ParityDump(directory: parityFixture)
        let rows = try ParityCheck().run(dump)
        #expect(rows.count == 161)
        for r in rows { #expect(r.passed, "\(r.name): rel \(r.relError), abs \(r.maxAbsError)") }
        let worst = rows.map(\.relError).max() ?? 1
        #expect(worst < 5e-5)
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
