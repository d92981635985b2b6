import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorCore

/// The parameters of the built-in dataset; recorded in `generator.json` at the dataset root.
public struct SceneParameters: Codable, Equatable, Sendable {
    /// Number of shape classes C (2…12).
    public var classes: Int = 10
    /// Number of background texture families B (1…12); defaults to C.
    public var backgrounds: Int? = nil
    /// Train images per class.
    public var perClass: Int = 100
    /// Test images per class.
    public var testPerClass: Int = 20
    /// Side length: 32 or 64.
    public var size: Int = 32
    /// ρ: probability that an image of class c gets its class's background family π(c).
    public var confounding: Double = 0.9
    public var seed: UInt64 = 0

    public init(classes: Int = 10, backgrounds: Int? = nil, perClass: Int = 100, testPerClass: Int = 20,
                size: Int = 32, confounding: Double = 0.9, seed: UInt64 = 0) {
        self.classes = classes
        self.backgrounds = backgrounds
        self.perClass = perClass
        self.testPerClass = testPerClass
        self.size = size
        self.confounding = confounding
        self.seed = seed
    }

    /// B, defaulting to C.
    public var backgroundFamilies: Int { backgrounds ?? classes }

    /// Checks every field; the error names the field and the allowed range.
    public func validate() throws {
        func bad(_ name: String, _ value: Any, _ fix: String) -> ImageDataError {
            .invalidParameter(name: name, value: "\(value)", fix: fix)
        }
        let maxC = SceneShape.allCases.count, maxB = SceneTexture.allCases.count
        guard (2...maxC).contains(classes) else { throw bad("classes", classes, "use 2…\(maxC) shape classes") }
        guard (1...maxB).contains(backgroundFamilies) else { throw bad("backgrounds", backgroundFamilies, "use 1…\(maxB) background families") }
        guard perClass >= 1 && perClass <= 100_000 else { throw bad("perClass", perClass, "use 1…100000 train images per class") }
        guard testPerClass >= 1 && testPerClass <= 100_000 else { throw bad("testPerClass", testPerClass, "use 1…100000 test images per class") }
        guard size == 32 || size == 64 else { throw bad("size", size, "use 32 or 64") }
        guard confounding >= 0 && confounding <= 1 else { throw bad("confounding", confounding, "use a probability in [0, 1]") }
    }
}

/// What `SceneGenerator.write` records next to the images (`generator.json`).
public struct SceneManifest: Codable, Equatable, Sendable {
    public var generator: String = "backdrop-scenes-v2"
    public var parameters: SceneParameters
    /// Class folder names, in class-index order (folder order on disk is alphabetical).
    public var classes: [String]
    /// Texture family names.
    public var backgroundFamilies: [String]
    /// π: the confounded background family of each class, by class index.
    public var classBackground: [Int]
    /// Background family actually used, per split, per class name, per image (file order).
    public var imageBackgrounds: [String: [String: [Int]]]
}

/// The built-in synthetic confounded dataset.
///
/// Each image shows one procedural shape (its class: disk, ring, triangle, …) with random scale,
/// rotation, position, aspect, colour and inner texture, over a procedural background texture
/// (stripes, checkerboard, dots, …) with random colours, phase, angle and frequency. The mask is
/// exact: a pixel is foreground iff its centre lies inside the shape, and the image uses the same
/// test.
///
/// **Why the background is a confounder.** Class c is drawn on its own background family π(c)
/// with probability ρ (`confounding`, default 0.9), otherwise on a uniformly chosen other family.
/// So the background family predicts the class with accuracy ≈ ρ, without containing the object:
/// a model can score well on `full` images by recognizing textures — a shortcut that fails on
/// `foreground` (no texture) and on `mixed-random` (the wrong class's texture), exactly the gaps
/// the experiment measures. ρ = 1/B removes the confound; ρ = 1 makes it perfect.
///
/// The same parameters and seed give byte-identical PNGs: every image draws from its own
/// generator seeded by `(seed, split, class, index)`, and PNG encoding is deterministic.
public enum SceneGenerator {
    /// Renders one scene: `size × size × 3` image bytes and `size × size` mask bytes (0 / 255).
    public static func render(shapeClass: Int, background: Int, size s: Int, rng: inout SeededRNG) -> (image: [UInt8], mask: [UInt8]) {
        var image = SceneTexture(rawValue: background)!.render(size: s, rng: &rng)
        let shape = SceneShape(rawValue: shapeClass)!
        let radius = rng.uniform(0.22, 0.34) * Float(s)
        let aspect = rng.uniform(0.8, 1.25).squareRoot()
        let su = radius * aspect, sv = radius / aspect
        let cx = rng.uniform(0.36, 0.64) * Float(s), cy = rng.uniform(0.36, 0.64) * Float(s)
        let theta = rng.uniform(0, 2 * .pi)
        let ct = cosf(theta), st = sinf(theta)
        let colour1 = SceneColour.random(&rng, saturation: 0.55...1.0, value: 0.6...1.0)
        let colour2 = SceneColour.random(&rng, saturation: 0.55...1.0, value: 0.35...1.0)
        let pattern = rng.int(below: 4)  // 0 solid, 1 stripes, 2 dots, 3 gradient
        let patternFrequency = rng.uniform(2, 4)
        var mask = [UInt8](repeating: 0, count: s * s)
        for y in 0..<s {
            for x in 0..<s {
                let dx = Float(x) + 0.5 - cx, dy = Float(y) + 0.5 - cy
                let u = (dx * ct + dy * st) / su, v = (-dx * st + dy * ct) / sv
                guard shape.contains(u, v) else { continue }
                mask[y * s + x] = 255
                var t: Float
                switch pattern {
                case 0: t = 0
                case 1: t = sinf(u * patternFrequency * .pi) > 0 ? 1 : 0
                case 2:
                    let a = u * patternFrequency, b = v * patternFrequency
                    let da = a - floorf(a) - 0.5, db = b - floorf(b) - 0.5
                    t = da * da + db * db < 0.08 ? 1 : 0
                default: t = min(max((u + 1) / 2, 0), 1)
                }
                let i = (y * s + x) * 3
                for c in 0..<3 { image[i + c] = UInt8(min(max(colour1[c] + (colour2[c] - colour1[c]) * t, 0), 255)) }
            }
        }
        return (image, mask)
    }

    /// Class names for `classes` classes.
    public static func classNames(_ classes: Int) -> [String] { (0..<classes).map { SceneShape(rawValue: $0)!.name } }

    /// Writes the dataset to `root` in the standard folder layout and returns its manifest (also
    /// written to `root/generator.json`). Existing files with the same names are overwritten.
    @discardableResult
    public static func write(_ p: SceneParameters, to root: String) throws -> SceneManifest {
        try p.validate()
        let b = p.backgroundFamilies
        var permRng = SeededRNG(seed: p.seed, streams: 0x5045_524D)
        var families = Array(0..<b)
        permRng.shuffle(&families)
        let pi = (0..<p.classes).map { families[$0 % b] }
        let names = classNames(p.classes)

        struct Job: Sendable { var split: String; var splitCode: UInt64; var cls: Int; var index: Int }
        var jobs: [Job] = []
        for (split, code, count) in [("train", UInt64(1), p.perClass), ("test", UInt64(2), p.testPerClass)] {
            for c in 0..<p.classes { for i in 0..<count { jobs.append(Job(split: split, splitCode: code, cls: c, index: i)) } }
        }
        for split in ["train", "test"] {
            for name in names {
                for kind in ["images", "masks"] {
                    let dir = DatasetLayout.join(root, split, kind, name)
                    do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                        throw ImageDataError.invalidLayout(path: dir, problem: "cannot create folder (\((error as NSError).localizedDescription)); check the --out path")
                    }
                }
            }
        }
        let allJobs = jobs
        let results = parallelMap(allJobs.count) { k -> Result<Int, ImageDataError> in
            let job = allJobs[k]
            var rng = SeededRNG(seed: p.seed, streams: job.splitCode, UInt64(job.cls), UInt64(job.index))
            var family = pi[job.cls]
            if b > 1 && !(Double(rng.unit()) < p.confounding) {
                family = (family + 1 + rng.int(below: b - 1)) % b
            }
            let (image, mask) = render(shapeClass: job.cls, background: family, size: p.size, rng: &rng)
            let file = "\(names[job.cls])_\(String(format: "%05d", job.index)).png"
            do {
                try PNGCodec.writeBytes(try PNGCodec.encode(image, width: p.size, height: p.size, layout: .rgb),
                                        to: DatasetLayout.join(root, job.split, "images", names[job.cls], file))
                try PNGCodec.writeBytes(try PNGCodec.encode(mask, width: p.size, height: p.size, layout: .gray),
                                        to: DatasetLayout.join(root, job.split, "masks", names[job.cls], file))
            } catch let error as ImageDataError {
                return .failure(error)
            } catch {
                return .failure(.encodeFailed(path: file, message: "\(error)"))
            }
            return .success(family)
        }
        var used: [String: [String: [Int]]] = [:]
        for (k, r) in results.enumerated() {
            let family = try r.get()
            used[jobs[k].split, default: [:]][names[jobs[k].cls], default: []].append(family)
        }
        let manifest = SceneManifest(parameters: p, classes: names,
                                     backgroundFamilies: (0..<b).map { SceneTexture(rawValue: $0)!.name },
                                     classBackground: pi, imageBackgrounds: used)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(manifest)
        try PNGCodec.writeBytes([UInt8](data) + [10], to: DatasetLayout.join(root, "generator.json"))
        return manifest
    }
}

