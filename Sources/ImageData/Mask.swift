/// How the foreground of an image is stored on disk (spec field `maskFormat`).
public enum MaskFormat: Equatable, Sendable, CustomStringConvertible {
    /// 8-bit gray mask files; 0 is background, 255 foreground (values ≥ 128 count as foreground,
    /// but `check` reports any value other than 0 and 255 as unknown — use `soft` for those).
    case binary
    /// 8-bit gray mask files; value / 255 is the foreground weight (CUB / Waterbirds style).
    case soft
    /// Oxford-IIIT Pet trimaps: 1 foreground, 2 background, 3 boundary handled by `boundary`.
    case trimap(boundary: TrimapBoundary)
    /// No mask files: the images are RGBA and alpha is the foreground weight.
    case alpha

    /// Parses `binary`, `soft`, `trimap` (boundary = foreground) or `alpha`.
    public init(name: String, trimapBoundary: TrimapBoundary = .foreground) throws {
        switch name.lowercased() {
        case "binary": self = .binary
        case "soft": self = .soft
        case "trimap": self = .trimap(boundary: trimapBoundary)
        case "alpha": self = .alpha
        default:
            throw ImageDataError.invalidParameter(name: "maskFormat", value: name, fix: "use one of binary, soft, trimap, alpha")
        }
    }

    public var description: String {
        switch self {
        case .binary: "binary"
        case .soft: "soft"
        case let .trimap(b): "trimap(boundary: \(b.rawValue))"
        case .alpha: "alpha"
        }
    }

    /// Whether the format reads separate mask files.
    public var usesMaskFiles: Bool { self != .alpha }
}

/// What the trimap boundary value 3 becomes (spec field `trimapBoundary`).
public enum TrimapBoundary: String, CaseIterable, Codable, Sendable {
    /// Boundary pixels are foreground (weight 255).
    case foreground
    /// Boundary pixels are background (weight 0).
    case background
    /// Boundary pixels are neither: weight 128, so composites blend them half and half and the
    /// bounding box (which uses weight > 128) ignores them.
    case ignore
}

/// A foreground mask: one weight byte per pixel, 0 = background … 255 = foreground.
public struct Mask: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// Row-major weights, `width * height` bytes.
    public var weights: [UInt8]

    public init(width: Int, height: Int, weights: [UInt8]) {
        precondition(weights.count == width * height, "Mask: \(weights.count) weights for \(width)×\(height)")
        self.width = width
        self.height = height
        self.weights = weights
    }

    /// Number of pixels with weight > 128 (the foreground area used by checks and bounding boxes).
    public var foregroundCount: Int { weights.reduce(0) { $0 + ($1 > 128 ? 1 : 0) } }

    /// The result of interpreting raw mask values.
    public struct Interpretation: Sendable {
        public var mask: Mask
        /// Distinct raw values the format does not define (sorted), empty when all are valid.
        public var unknownValues: [UInt8]
    }

    /// Converts raw 8-bit mask values (a gray plane) under `format`.
    ///
    /// Unknown values (e.g. 7 in a trimap, 17 in a binary mask) are listed in `unknownValues`
    /// and mapped to the nearest sensible weight so that callers can still report them.
    public static func interpret(_ raw: [UInt8], width: Int, height: Int, format: MaskFormat) -> Interpretation {
        var seen = [Bool](repeating: false, count: 256)
        var weights = [UInt8](repeating: 0, count: raw.count)
        for i in 0..<raw.count {
            let v = raw[i]
            seen[Int(v)] = true
            switch format {
            case .binary: weights[i] = v >= 128 ? 255 : 0
            case .soft, .alpha: weights[i] = v
            case let .trimap(boundary):
                switch v {
                case 1: weights[i] = 255
                case 3: weights[i] = boundary == .foreground ? 255 : boundary == .background ? 0 : 128
                default: weights[i] = 0
                }
            }
        }
        let allowed: Set<UInt8>
        switch format {
        case .binary: allowed = [0, 255]
        case .soft, .alpha: allowed = Set(0...255)
        case .trimap: allowed = [1, 2, 3]
        }
        let unknown = (0..<256).filter { seen[$0] && !allowed.contains(UInt8($0)) }.map { UInt8($0) }
        return Interpretation(mask: Mask(width: width, height: height, weights: weights), unknownValues: unknown)
    }
}
