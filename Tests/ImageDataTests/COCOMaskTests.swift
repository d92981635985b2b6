import Foundation
import Testing
@testable import ImageData

/// The COCO mask decoders against pycocotools' own output (written by
/// scripts/fixtures/make_coco_fixture.py): every fixture annotation and 40 random polygons.
@Suite struct COCOMaskTests {
    static let coco = Fixtures.path("coco")

    /// pycocotools' `annToMask` of annotation `id`, as 0/1 bytes.
    static func reference(_ id: Int) throws -> [UInt8] {
        let image = try PNGCodec.decode(contentsOf: "\(coco)/reference/\(id).png")
        return (0..<(image.width * image.height)).map { image.rgb[3 * $0] >= 128 ? 1 : 0 }
    }

    @Test(arguments: ["train", "test"]) func everyAnnotationDecodesLikePycocotools(split: String) throws {
        let instances = try COCOInstances.load(path: "\(Self.coco)/annotations/instances_\(split).json")
        let images = Dictionary(uniqueKeysWithValues: instances.images.map { ($0.id, $0) })
        var kinds: Set<String> = []
        for a in instances.annotations {
            let image = images[a.imageID]!
            let mask = try COCOMasks.decode(a.segmentation!, width: image.width, height: image.height)
            let expected = try Self.reference(a.id)
            #expect(mask == expected, "annotation \(a.id): \(zip(mask, expected).filter { $0 != $1 }.count) pixels differ")
            #expect(mask.contains(1), "annotation \(a.id) decoded empty")
            switch a.segmentation! {
            case let .polygons(p): kinds.insert(p.count > 1 ? "multi-polygon" : "polygon")
            case .rle: kinds.insert("rle")
            case .compressedRLE: kinds.insert("compressed")
            }
        }
        if split == "train" { #expect(kinds == ["polygon", "multi-polygon", "rle", "compressed"]) }
    }

    struct PolygonCases: Decodable {
        struct Case: Decodable { var polygon: [Double]; var mask: String }
        var width: Int
        var height: Int
        var cases: [Case]
    }

    @Test func randomPolygonsRasterizeLikePycocotools() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(Self.coco)/polygons.json"))
        let fixture = try JSONDecoder().decode(PolygonCases.self, from: data)
        #expect(fixture.cases.count == 40)
        for (n, c) in fixture.cases.enumerated() {
            let bytes = stride(from: 0, to: c.mask.count, by: 2).map { i -> UInt8 in
                let s = c.mask.index(c.mask.startIndex, offsetBy: i)
                return UInt8(c.mask[s..<c.mask.index(s, offsetBy: 2)], radix: 16)!
            }
            let expected = (0..<(fixture.width * fixture.height)).map { (bytes[$0 / 8] >> (7 - UInt8($0 % 8))) & 1 }
            let mask = try COCOMasks.decode(.polygons([c.polygon]), width: fixture.width, height: fixture.height)
            #expect(mask == expected, "case \(n): \(zip(mask, expected).filter { $0 != $1 }.count) pixels differ")
        }
    }

    @Test func compressedStringMatchesItsUncompressedCounts() throws {
        // Worked by hand from maskApi.c's rleToString: a count below 16 is one character, 48 + count.
        #expect(try COCOMasks.rleCounts(fromString: "123") == [1, 2, 3])
        // Fourth count is a delta to the second: 2 + 4 = 6.
        #expect(try COCOMasks.rleCounts(fromString: "1234") == [1, 2, 3, 6])
        // Negative delta (sign bit 0x10): "?" is 48 + 15 → 15; "O" is 48 + 31 → -1.
        #expect(try COCOMasks.rleCounts(fromString: "123O") == [1, 2, 3, 1])
        // Multi-character count: 0x20 continues; "P1" = 0 | (1 << 5) = 32.
        #expect(try COCOMasks.rleCounts(fromString: "P1") == [32])
        #expect(throws: COCOMaskError.self) { try COCOMasks.rleCounts(fromString: "P") }
        #expect(throws: COCOMaskError.self) { try COCOMasks.rleCounts(fromString: "1~") }
    }

    @Test func badSegmentationsAreErrorsNotCrashes() throws {
        let odd = #expect(throws: COCOMaskError.self) { try COCOMasks.decode(.polygons([[1, 2, 3, 4, 5]]), width: 4, height: 4) }
        #expect(odd?.problem.contains("odd number of coordinates") == true)
        let sum = #expect(throws: COCOMaskError.self) { try COCOMasks.decode(.rle(counts: [3, 4], height: 4, width: 4), width: 4, height: 4) }
        #expect(sum?.problem.contains("sum to 7") == true && sum?.problem.contains("needs 16") == true)
        let size = #expect(throws: COCOMaskError.self) { try COCOMasks.decode(.rle(counts: [16], height: 4, width: 4), width: 5, height: 4) }
        #expect(size?.problem.contains("differs") == true)
        #expect(throws: COCOMaskError.self) { try COCOMasks.decode(.polygons([[0, 0, .nan, 3, 3, 3]]), width: 4, height: 4) }
        // Degenerate polygons (repeated vertices, fewer than 3 points) are empty, not a crash.
        #expect(try COCOMasks.decode(.polygons([[1, 1, 1, 1, 1, 1]]), width: 4, height: 4).allSatisfy { $0 == 0 })
        #expect(try COCOMasks.decode(.polygons([[1, 1, 2, 2]]), width: 4, height: 4).allSatisfy { $0 == 0 })
    }

    @Test func uncompressedRLEIsColumnMajor() throws {
        // 2 rows × 3 columns; counts: 1 background, 2 object (rest of column 0 and top of column 1), 3 background.
        let mask = try COCOMasks.decode(.rle(counts: [1, 2, 3], height: 2, width: 3), width: 3, height: 2)
        #expect(mask == [0, 1, 0,
                         1, 0, 0])
    }

    @Test func boxMaskRoundsHalvesUpAndClamps() throws {
        // [x 0.5, y 1.4, w 2.0, h 1.2]: columns round(0.5)=1 ..< round(2.5)=3, rows round(1.4)=1 ..< round(2.6)=3.
        let m = try COCOMasks.boxMask([0.5, 1.4, 2.0, 1.2], width: 4, height: 4)
        #expect(m == [0, 0, 0, 0,
                      0, 1, 1, 0,
                      0, 1, 1, 0,
                      0, 0, 0, 0])
        // A box sticking out of the image is clamped; a sub-pixel box still covers one pixel.
        #expect(try COCOMasks.boxMask([-3, -3, 5, 5], width: 4, height: 4).filter { $0 == 1 }.count == 4)
        #expect(try COCOMasks.boxMask([1.1, 1.1, 0.2, 0.2], width: 4, height: 4).filter { $0 == 1 }.count == 1)
        #expect(throws: COCOMaskError.self) { try COCOMasks.boxMask([0, 0, 0, 3], width: 4, height: 4) }
    }
}
