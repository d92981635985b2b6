import Foundation
import Testing
import TestSupport
@testable import ImageData

@Suite struct SceneManifestFamiliesTests {
    @Test func everyLoadedSampleGetsTheFamilyTheGeneratorDrewForIt() throws {
        try withTemporaryDirectory { url in
            let dir = url.path
            let p = SceneParameters(classes: 3, perClass: 5, testPerClass: 2, size: 32, confounding: 0.5, seed: 8)
            let written = try SceneGenerator.write(p, to: dir)
            let manifest = try #require(try SceneManifest.load(root: dir))
            #expect(manifest == written)
            for split in ["train", "test"] {
                let data = try Dataset.load(root: dir, split: split, options: DatasetOptions(size: 16))
                let families = try manifest.backgroundFamilies(of: data)
                // Samples are class-major in file order; the manifest lists each class's images in file order.
                let expected = data.classes.flatMap { written.imageBackgrounds[split]![$0]! }
                #expect(families == expected)
                #expect(families.allSatisfy { (0..<written.backgroundFamilies.count).contains($0) })
            }
        }
    }

    @Test func aFolderWithoutManifestHasNoFamilies() throws {
        try withTemporaryDirectory { url in
            #expect(try SceneManifest.load(root: url.path) == nil)
            try Data("{}".utf8).write(to: url.appendingPathComponent(SceneManifest.fileName))
            #expect(throws: ImageDataError.self) { try SceneManifest.load(root: url.path) }
        }
    }
}
