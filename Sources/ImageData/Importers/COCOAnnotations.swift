import Foundation

/// The parts of a COCO `instances_<split>.json` the importer reads. Other fields are ignored.
///
/// Format (cocodataset.org/#format-data): `images[] {id, file_name, width, height}`,
/// `annotations[] {id, image_id, category_id, segmentation, area, bbox [x, y, w, h], iscrowd}`,
/// `categories[] {id, name}`.
public struct COCOInstances: Decodable, Sendable {
    public var images: [COCOImage]
    public var annotations: [COCOAnnotation]
    public var categories: [COCOCategory]

    public init(images: [COCOImage], annotations: [COCOAnnotation], categories: [COCOCategory]) {
        self.images = images
        self.annotations = annotations
        self.categories = categories
    }

    /// Reads and decodes the annotations file at `path`.
    /// - Throws: `COCOImportError.unreadable`, or `.malformed` naming the JSON path or the parser's
    ///   line and column.
    public static func load(path: String) throws -> COCOInstances {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw COCOImportError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        return try decode(data, path: path)
    }

    /// Decodes annotations JSON already in memory; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws -> COCOInstances {
        do {
            return try JSONDecoder().decode(COCOInstances.self, from: data)
        } catch let error as DecodingError {
            throw COCOImportError.malformed(path: path, position: Self.position(of: error), problem: Self.problem(of: error))
        } catch let error as COCOImportError {
            throw error
        } catch {
            throw COCOImportError.malformed(path: path, position: "the top level", problem: "\(error)")
        }
    }

    /// `annotations[3].segmentation`-style path of a decoding error, or the parser's position.
    static func position(of error: DecodingError) -> String {
        let context: DecodingError.Context
        switch error {
        case let .typeMismatch(_, c), let .valueNotFound(_, c), let .keyNotFound(_, c), let .dataCorrupted(c): context = c
        @unknown default: return "an unknown position"
        }
        var path = ""
        for key in context.codingPath {
            if let i = key.intValue { path += "[\(i)]" } else { path += path.isEmpty ? key.stringValue : "." + key.stringValue }
        }
        if case let .keyNotFound(key, _) = error { path += path.isEmpty ? key.stringValue : "." + key.stringValue }
        if path.isEmpty {
            if let underlying = context.underlyingError { return "the JSON text (\((underlying as NSError).userInfo[NSDebugDescriptionErrorKey] ?? underlying))" }
            return "the top level"
        }
        return path
    }

    static func problem(of error: DecodingError) -> String {
        switch error {
        case let .typeMismatch(type, c): return "expected \(type) (\(c.debugDescription))"
        case let .valueNotFound(type, c): return "missing \(type) value (\(c.debugDescription))"
        case .keyNotFound: return "required field missing"
        case let .dataCorrupted(c): return c.debugDescription
        @unknown default: return "\(error)"
        }
    }
}

/// One entry of `images`.
public struct COCOImage: Decodable, Sendable, Equatable {
    public var id: Int
    /// File name relative to the images folder, e.g. `000000391895.jpg`.
    public var fileName: String
    public var width: Int
    public var height: Int

    enum CodingKeys: String, CodingKey { case id, fileName = "file_name", width, height }

    public init(id: Int, fileName: String, width: Int, height: Int) {
        self.id = id
        self.fileName = fileName
        self.width = width
        self.height = height
    }
}

/// One entry of `categories`.
public struct COCOCategory: Decodable, Sendable, Equatable {
    public var id: Int
    public var name: String
}

/// One entry of `annotations`.
public struct COCOAnnotation: Decodable, Sendable, Equatable {
    public var id: Int
    public var imageID: Int
    public var categoryID: Int
    public var segmentation: COCOSegmentation?
    /// The object's area in pixels as the file states it (the importer ranks objects by it).
    public var area: Double
    /// `[x, y, width, height]` in pixels, x to the right and y down from the top-left corner.
    public var bbox: [Double]?
    /// Crowd regions (`iscrowd: 1`) never label an image.
    public var isCrowd: Bool

    enum CodingKeys: String, CodingKey {
        case id, imageID = "image_id", categoryID = "category_id", segmentation, area, bbox, isCrowd = "iscrowd"
    }

    public init(id: Int, imageID: Int, categoryID: Int, segmentation: COCOSegmentation?, area: Double,
                bbox: [Double]? = nil, isCrowd: Bool = false) {
        self.id = id
        self.imageID = imageID
        self.categoryID = categoryID
        self.segmentation = segmentation
        self.area = area
        self.bbox = bbox
        self.isCrowd = isCrowd
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int.self, forKey: .id)
        imageID = try c.decode(Int.self, forKey: .imageID)
        categoryID = try c.decode(Int.self, forKey: .categoryID)
        segmentation = try c.decodeIfPresent(COCOSegmentation.self, forKey: .segmentation)
        area = try c.decode(Double.self, forKey: .area)
        bbox = try c.decodeIfPresent([Double].self, forKey: .bbox)
        isCrowd = (try c.decodeIfPresent(Int.self, forKey: .isCrowd) ?? 0) != 0
    }
}

/// An object's segmentation in one of COCO's three encodings.
public enum COCOSegmentation: Decodable, Sendable, Equatable {
    /// One or more polygons `[x0, y0, x1, y1, …]` in pixel coordinates; the object is their union.
    case polygons([[Double]])
    /// Uncompressed RLE `{"counts": [Int], "size": [h, w]}`: run lengths over the column-major
    /// (Fortran-order) pixels, alternating background and foreground, starting with background.
    case rle(counts: [Int], height: Int, width: Int)
    /// Compressed RLE `{"counts": "…", "size": [h, w]}`: the same runs in COCO's LEB128-like
    /// string encoding (see `COCOMasks.rleCounts(fromString:)`).
    case compressedRLE(counts: String, height: Int, width: Int)

    enum Keys: String, CodingKey { case counts, size }

    public init(from decoder: any Decoder) throws {
        if let polygons = try? decoder.singleValueContainer().decode([[Double]].self) {
            self = .polygons(polygons)
            return
        }
        let c: KeyedDecodingContainer<Keys>
        do {
            c = try decoder.container(keyedBy: Keys.self)
        } catch {
            throw DecodingError.typeMismatch(COCOSegmentation.self, DecodingError.Context(
                codingPath: decoder.codingPath,
                debugDescription: "a segmentation is a list of polygons [[x, y, …]] or an RLE object {counts, size}"))
        }
        let size = try c.decode([Int].self, forKey: .size)
        guard size.count == 2 else {
            throw DecodingError.dataCorruptedError(forKey: .size, in: c, debugDescription: "size must be [height, width], got \(size.count) numbers")
        }
        if let counts = try? c.decode(String.self, forKey: .counts) {
            self = .compressedRLE(counts: counts, height: size[0], width: size[1])
        } else {
            self = .rle(counts: try c.decode([Int].self, forKey: .counts), height: size[0], width: size[1])
        }
    }
}
