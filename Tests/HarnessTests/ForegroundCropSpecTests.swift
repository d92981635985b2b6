import Foundation
import Harness
import ImageData
import Testing

/// The `foreground-crop` view from specs: as a train view (one cell per view) and a test view,
/// refused on data without masks, and the committed COCO spec decodes with it.
@Suite struct ForegroundCropSpecTests {
    static let text = """
    name: crop
    dataset: {folder: data}
    trainViews: [full, foreground-crop]
    evaluation: {testViews: [full, foreground-crop]}
    """

    @Test func trainAndTestViewsDecode() throws {
        let spec = try ExperimentSpec.parse(Self.text, source: "crop.yaml")
        #expect(spec.trainViews == [.full, .foregroundCrop])
        #expect(spec.evaluation.testViews == [.full, .foregroundCrop])
        let keys = spec.cells().map(\.key)
        #expect(keys == ["full/simclr/none/seed0", "foreground-crop/simclr/none/seed0"])
        #expect(spec.cells()[1].config.trainView.view == .foregroundCrop)
        let overridden = try ExperimentSpec.parse(Self.text, source: "crop.yaml", overrides: ["trainViews=[foreground-crop]"])
        #expect(overridden.trainViews == [.foregroundCrop])
        #expect(throws: SpecError.self) { try ExperimentSpec.parse(Self.text, source: "crop.yaml", overrides: ["trainViews=[foreground-crops]"]) }
    }

    @Test func needsMasks() throws {
        let spec = try ExperimentSpec.parse(Self.text, source: "crop.yaml")
        #expect(spec.cells()[1].config.maskRequirements().contains { $0.key == "trainViews" && $0.what.contains("foreground-crop") })
        #expect(throws: SpecError.self) { try spec.fitted(toSplitsWithoutMasks: ["train"], root: "data") }
    }

    @Test func cocoObservationSpecDecodes() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Experiments/coco-observation.yaml").path
        let spec = try ExperimentSpec.load(path: path, overrides: ["dataset.folder=elsewhere"])
        #expect(spec.dataset.folder == "elsewhere" && spec.imageSize == 64 && spec.seeds.count >= 3)
        #expect(spec.trainViews == [.full, .foreground] && spec.methods == [.simclr])
        #expect(Set(spec.evaluation.testViews) == Set(ViewKind.allCases), "the COCO spec tests every view: add new views to its evaluation.testViews")
    }
}
