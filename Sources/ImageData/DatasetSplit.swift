/// One split of a dataset decoded into a compact in-memory cache.
///
/// Every image is stored once as `size × size × 3` interleaved bytes and every mask as
/// `size × size` weight bytes, so epochs never decode files again. `memoryBytes` reports the
/// cache's size.
public struct DatasetSplit: Sendable {
    public var name: String
    /// Class names, sorted; `labels[i]` indexes this list.
    public var classes: [String]
    /// Side length of every image.
    public var size: Int
    /// `count * size * size * 3` bytes: sample `i` starts at `i * size * size * 3`.
    public var pixels: [UInt8]
    /// `count * size * size` bytes of foreground weights.
    public var masks: [UInt8]
    public var labels: [Int]
    /// Source file of each sample (for messages and previews).
    public var paths: [String]
    /// Bad samples left out under `onBadSample: skip`.
    public var skippedCount: Int
    /// Every issue met while loading (warnings, and the errors of skipped samples).
    public var issues: [DatasetIssue]

    public init(name: String, classes: [String], size: Int, pixels: [UInt8], masks: [UInt8], labels: [Int],
                paths: [String], skippedCount: Int = 0, issues: [DatasetIssue] = []) {
        precondition(pixels.count == labels.count * size * size * 3 && masks.count == labels.count * size * size,
                     "DatasetSplit: pixel/mask buffers do not match \(labels.count) samples of \(size)×\(size)")
        self.name = name
        self.classes = classes
        self.size = size
        self.pixels = pixels
        self.masks = masks
        self.labels = labels
        self.paths = paths
        self.skippedCount = skippedCount
        self.issues = issues
    }

    public var count: Int { labels.count }
    /// Bytes held by the pixel and mask cache.
    public var memoryBytes: Int { pixels.count + masks.count + labels.count * MemoryLayout<Int>.stride }

    /// Sample `i`'s image.
    public func image(at i: Int) -> Image {
        let n = size * size * 3
        return Image(width: size, height: size, rgb: Array(pixels[(i * n)..<((i + 1) * n)]))
    }

    /// Sample `i`'s mask.
    public func mask(at i: Int) -> Mask {
        let n = size * size
        return Mask(width: size, height: size, weights: Array(masks[(i * n)..<((i + 1) * n)]))
    }

    /// Per-channel mean and standard deviation of all pixels, in [0, 1] units (for normalization).
    public func channelStatistics() -> (mean: [Float], std: [Float]) {
        var sum = [Double](repeating: 0, count: 3), sq = [Double](repeating: 0, count: 3)
        for i in 0..<pixels.count {
            let v = Double(pixels[i]) / 255
            sum[i % 3] += v
            sq[i % 3] += v * v
        }
        let n = Double(max(pixels.count / 3, 1))
        let mean = sum.map { $0 / n }
        let std = (0..<3).map { max((sq[$0] / n - mean[$0] * mean[$0]).squareRoot(), 1e-6) }
        return (mean.map(Float.init), std.map(Float.init))
    }
}

extension Dataset {
    /// Decodes split `split` of the dataset at `root` into the in-memory cache, resizing images
    /// and masks (with the same filter) to `options.size`.
    ///
    /// Under `onBadSample: fail` any bad sample or layout error throws `ImageDataError.badSamples`
    /// listing all of them; under `skip` bad samples are left out and counted.
    public static func load(root: String, split: String, options: DatasetOptions = DatasetOptions()) throws -> DatasetSplit {
        guard options.size >= 4 && options.size <= 1024 else {
            throw ImageDataError.invalidParameter(name: "size", value: "\(options.size)", fix: "use a side length between 4 and 1024 pixels")
        }
        let layout = try DatasetLayout.scan(root: root)
        guard let listing = layout.splits[split] else {
            throw ImageDataError.invalidLayout(path: DatasetLayout.join(root, split, "images"),
                                               problem: "split `\(split)` not found; expected \(split)/images/<class>/*.png")
        }
        let layoutIssues = layout.issues(maskFormat: options.maskFormat)
        let samples = listing.samples
        let format = options.maskFormat, s = options.size, filter = options.resize
        let decoded = parallelMap(samples.count) { i -> (InspectedSample, [UInt8], [UInt8]) in
            let inspected = inspect(samples[i], format: format, keepPixels: true)
            guard !inspected.isBad, let image = inspected.image, let mask = inspected.mask else { return (inspected, [], []) }
            let px = Resize.resize(image.rgb, width: image.width, height: image.height, channels: 3, to: s, s, filter: filter)
            let mk = Resize.resize(mask.weights, width: mask.width, height: mask.height, channels: 1, to: s, s, filter: filter)
            return (inspected, px, mk)
        }
        var issues = layoutIssues
        var pixels: [UInt8] = [], masks: [UInt8] = [], labels: [Int] = [], paths: [String] = []
        pixels.reserveCapacity(samples.count * s * s * 3)
        masks.reserveCapacity(samples.count * s * s)
        var skipped = 0
        for (i, (inspected, px, mk)) in decoded.enumerated() {
            issues += inspected.issues
            if inspected.isBad { skipped += 1; continue }
            pixels += px
            masks += mk
            labels.append(samples[i].label)
            paths.append(samples[i].imagePath)
        }
        if options.onBadSample == .fail && issues.contains(where: { $0.severity == .error }) {
            throw ImageDataError.badSamples(issues)
        }
        guard !labels.isEmpty else {
            throw ImageDataError.invalidLayout(path: DatasetLayout.join(root, split), problem: "no usable samples in split `\(split)`")
        }
        return DatasetSplit(name: split, classes: layout.classes, size: s, pixels: pixels, masks: masks, labels: labels,
                            paths: paths, skippedCount: skipped, issues: issues)
    }
}
