import Testing
@testable import ImageData

@Suite struct MaskAndResizeTests {
    @Test func binaryMasksThresholdAndFlagOtherValues() {
        let r = Mask.interpret([0, 255, 200, 17], width: 2, height: 2, format: .binary)
        #expect(r.mask.weights == [0, 255, 255, 0])
        #expect(r.unknownValues == [17, 200])
        #expect(Mask.interpret([0, 255], width: 2, height: 1, format: .binary).unknownValues.isEmpty)
    }

    @Test func softMasksKeepWeights() {
        let r = Mask.interpret([0, 64, 128, 255], width: 4, height: 1, format: .soft)
        #expect(r.mask.weights == [0, 64, 128, 255])
        #expect(r.unknownValues.isEmpty)
    }

    @Test(arguments: [(TrimapBoundary.foreground, UInt8(255)), (.background, 0), (.ignore, 128)])
    func trimapsMapOxfordPetValues(boundary: TrimapBoundary, expected: UInt8) {
        let r = Mask.interpret([1, 2, 3, 0], width: 4, height: 1, format: .trimap(boundary: boundary))
        #expect(Array(r.mask.weights.prefix(3)) == [255, 0, expected])
        #expect(r.unknownValues == [0])
    }

    @Test func maskFormatParsing() throws {
        #expect(try MaskFormat(name: "trimap", trimapBoundary: .ignore) == .trimap(boundary: .ignore))
        #expect(try MaskFormat(name: "alpha") == .alpha)
        #expect(throws: ImageDataError.self) { try MaskFormat(name: "polygon") }
    }

    @Test(arguments: ResizeFilter.allCases)
    func resizeKeepsConstantImagesConstant(filter: ResizeFilter) {
        let src = [UInt8](repeating: 77, count: 10 * 6 * 3)
        let out = Resize.resize(src, width: 10, height: 6, channels: 3, to: 4, 4, filter: filter)
        #expect(out == [UInt8](repeating: 77, count: 4 * 4 * 3))
    }

    @Test func areaResizeAveragesBlocks() {
        // 4×2 gray → 2×1: each output averages a 2×2 block.
        let out = Resize.resize([0, 100, 200, 40, 100, 0, 60, 100], width: 4, height: 2, channels: 1, to: 2, 1, filter: .area)
        #expect(out == [50, 100])
    }

    @Test func bilinearUpsamplingInterpolates() {
        let out = Resize.resize([0, 255], width: 2, height: 1, channels: 1, to: 4, 1, filter: .bilinear)
        #expect(out == [0, 64, 191, 255])
    }
}
