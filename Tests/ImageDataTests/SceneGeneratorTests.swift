import Foundation
import Testing
import TensorCore
import TestSupport
@testable import ImageData

@Suite struct SceneGeneratorTests {
    static let small = SceneParameters(classes: 3, perClass: 4, testPerClass: 2, size: 32, confounding: 0.9, seed: 42)

    static func files(_ root: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(atPath: root)!
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + rel, isDirectory: &isDir), !isDir.boolValue {
                out[rel] = try Data(contentsOf: URL(fileURLWithPath: root + "/" + rel))
            }
        }
        return out
    }

    @Test func sameSeedGivesByteIdenticalFiles() throws {
        try withTemporaryDirectory { url in let dir = url.path
            try SceneGenerator.write(Self.small, to: dir + "/a")
            try SceneGenerator.write(Self.small, to: dir + "/b")
            var other = Self.small
            other.seed = 43
            try SceneGenerator.write(other, to: dir + "/c")
            let a = try Self.files(dir + "/a"), b = try Self.files(dir + "/b"), c = try Self.files(dir + "/c")
            #expect(a.count == 3 * (4 + 2) * 2 + 1)
            #expect(a == b)
            #expect(Set(a.keys) == Set(c.keys))
            #expect(a.filter { $0.key.hasSuffix(".png") }.contains { c[$0.key] != $0.value })
        }
    }

    @Test func generatedDatasetIsCleanAndMasksAreExact() throws {
        try withTemporaryDirectory { url in let dir = url.path
            try SceneGenerator.write(Self.small, to: dir)
            let report = try Dataset.check(root: dir)
            #expect(report.isClean, "\(report.text)")
            #expect(report.warnings.isEmpty)
            let split = try Dataset.load(root: dir, split: "train", options: DatasetOptions(size: 32))
            #expect(split.count == 12)
            #expect(Set(split.masks.bytes) == [0, 255])
        }
    }

    @Test func renderingIsDeterministicAndMaskMatchesTheShape() {
        for cls in 0..<12 {
            var r1 = SeededRNG(seed: UInt64(cls)), r2 = SeededRNG(seed: UInt64(cls))
            let a = SceneGenerator.render(shapeClass: cls, background: (cls * 5) % 12, size: 32, rng: &r1)
            let b = SceneGenerator.render(shapeClass: cls, background: (cls * 5) % 12, size: 32, rng: &r2)
            #expect(a.image == b.image && a.mask == b.mask)
            let fg = a.mask.filter { $0 == 255 }.count
            #expect(fg > 30 && fg < 32 * 32 / 2, "class \(cls): \(fg) foreground pixels")
        }
    }

    @Test func everyBackgroundShowsItsPattern() {
        // A dark and a light shade: the two texture colours differ in luma by a clear margin, so
        // no background is (nearly) flat and its family stays recognizable.
        for family in SceneTexture.allCases {
            for seed in 0..<40 {
                var rng = SeededRNG(seed: UInt64(seed), streams: UInt64(family.rawValue))
                let px = family.render(size: 32, rng: &rng)
                if family == .gradient || family == .valueNoise { continue }  // smooth blends: the range depends on the phase
                let luma: [Float] = (0..<(32 * 32)).map { (i: Int) -> Float in
                    let r = Float(px[3 * i]), g = Float(px[3 * i + 1]), b = Float(px[3 * i + 2])
                    return 0.299 * r + 0.587 * g + 0.114 * b
                }
                #expect(luma.max()! - luma.min()! > 25, "\(family.name), seed \(seed): luma range \(luma.max()! - luma.min()!)")
            }
        }
    }

    @Test func confoundingControlsTheBackgroundFamily() throws {
        try withTemporaryDirectory { url in let dir = url.path
            var p = SceneParameters(classes: 4, perClass: 60, testPerClass: 1, size: 32, confounding: 1.0, seed: 1)
            let full = try SceneGenerator.write(p, to: dir + "/full")
            for (c, name) in full.classes.enumerated() {
                #expect(full.imageBackgrounds["train"]![name]!.allSatisfy { $0 == full.classBackground[c] })
            }
            #expect(Set(full.classBackground).count == 4, "π is a permutation when B = C")
            p.confounding = 0.5
            let half = try SceneGenerator.write(p, to: dir + "/half")
            var matches = 0, total = 0
            for (c, name) in half.classes.enumerated() {
                let used = half.imageBackgrounds["train"]![name]!
                matches += used.filter { $0 == half.classBackground[c] }.count
                total += used.count
            }
            let rate = Double(matches) / Double(total)
            #expect(rate > 0.35 && rate < 0.65, "observed ρ \(rate)")
        }
    }

    @Test func invalidParametersAreNamed() {
        #expect(throws: ImageDataError.invalidParameter(name: "size", value: "48", fix: "use 32 or 64")) {
            try SceneParameters(size: 48).validate()
        }
        #expect(throws: ImageDataError.self) { try SceneParameters(classes: 13).validate() }
        #expect(throws: ImageDataError.self) { try SceneParameters(confounding: 1.5).validate() }
    }
}
