import Foundation

/// One split of a dataset decoded into a compact cache.
///
/// Every image is stored once as `size × size × 3` interleaved bytes and every mask as
/// `size × size` weight bytes, so epochs never decode files again: in memory, or read in place
/// from the packed cache file (`PackedCache`) when the split is larger than the memory budget.
/// `memoryBytes` reports the cache's size.
public struct DatasetSplit: Sendable {
    public var name: String
    /// Class names, sorted; `labels[i]` indexes this list.
    public var classes: [String]
    /// Side length of every image.
    public var size: Int
    /// `count * size * size * 3` bytes: sample `i` starts at `i * size * size * 3`.
    public var pixels: ByteStore
    /// `count * size * size` bytes of foreground weights (all 255 in a split without masks).
    public var masks: ByteStore
    /// Class index of each sample; -1 in the `unlabeled` split.
    public var labels: [Int]
    /// Whether the masks come from mask files (or the alpha channel): false for a split without
    /// masks, whose masks are all foreground.
    public var hasMasks: Bool
    /// Where the bytes came from (for the log line that says whether a split was decoded).
    public var origin: Origin = .decoded(seconds: 0)

    /// How a split was obtained.
    public enum Origin: Sendable, Equatable {
        /// Decoded from the image files now (and packed into the cache when one is configured).
        case decoded(seconds: Double)
        /// Read from a packed cache file; `streamed`: read in place from the mapping rather than copied into memory.
        case cache(path: String, streamed: Bool)
    }
    /// Source file of each sample (for messages and previews).
    public var paths: [String]
    /// Bad samples left out under `onBadSample: skip`.
    public var skippedCount: Int
    /// Every issue met while loading (warnings, and the errors of skipped samples).
    public var issues: [DatasetIssue]

    public init(name: String, classes: [String], size: Int, pixels: [UInt8], masks: [UInt8], labels: [Int],
                paths: [String], skippedCount: Int = 0, issues: [DatasetIssue] = [], hasMasks: Bool = true) {
        self.init(name: name, classes: classes, size: size, pixels: ByteStore(pixels), masks: ByteStore(masks), labels: labels,
                  paths: paths, skippedCount: skippedCount, issues: issues, hasMasks: hasMasks)
    }

    public init(name: String, classes: [String], size: Int, pixels: ByteStore, masks: ByteStore, labels: [Int],
                paths: [String], skippedCount: Int = 0, issues: [DatasetIssue] = [], hasMasks: Bool = true) {
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
        self.hasMasks = hasMasks
    }

    public var count: Int { labels.count }
    /// Bytes held by the pixel and mask cache.
    public var memoryBytes: Int { pixels.count + masks.count + labels.count * MemoryLayout<Int>.stride }

    /// Sample `i`'s image.
    public func image(at i: Int) -> Image {
        let n = size * size * 3
        return Image(width: size, height: size, rgb: pixels[(i * n)..<((i + 1) * n)])
    }

    /// Sample `i`'s mask.
    public func mask(at i: Int) -> Mask {
        let n = size * size
        return Mask(width: size, height: size, weights: masks[(i * n)..<((i + 1) * n)])
    }

    /// Per-channel mean and standard deviation of all pixels, in [0, 1] units (for normalization).
    public func channelStatistics() -> (mean: [Float], std: [Float]) {
        var sum = [Double](repeating: 0, count: 3), sq = [Double](repeating: 0, count: 3)
        pixels.withUnsafeBytes { bytes in
            for i in 0..<bytes.count {
                let v = Double(bytes[i]) / 255
                sum[i % 3] += v
                sq[i % 3] += v * v
            }
        }
        let n = Double(max(pixels.count / 3, 1))
        let mean = sum.map { $0 / n }
        let std = (0..<3).map { max((sq[$0] / n - mean[$0] * mean[$0]).squareRoot(), 1e-6) }
        return (mean.map(Float.init), std.map(Float.init))
    }
}

extension Dataset {
    /// Decodes split `split` of the dataset at `root`, resizing images and masks (with the same
    /// filter) to `options.size` — or, with `options.cacheDirectory`, reads it from the packed
    /// cache, decoding and packing it first when the cache has no file for this exact file list
    /// (paths, sizes, modification times), size, filter and mask format (`PackedCache`).
    ///
    /// Under `onBadSample: fail` any bad sample or layout error throws `ImageDataError.badSamples`
    /// listing all of them; under `skip` bad samples are left out and counted.
    /// - Parameter log: progress while decoding, and one line saying where the split came from.
    /// - Throws: also when `options.requireMasks` and the split has no masks, naming the split.
    public static func load(root: String, split: String, options: DatasetOptions = DatasetOptions(),
                            log: ((String) -> Void)? = nil) throws -> DatasetSplit {
        guard options.size >= 4 && options.size <= 1024 else {
            throw ImageDataError.invalidParameter(name: "size", value: "\(options.size)", fix: "use a side length between 4 and 1024 pixels")
        }
        let layout = try DatasetLayout.scan(root: root)
        guard let listing = layout.splits[split] else {
            throw ImageDataError.invalidLayout(path: DatasetLayout.join(root, split),
                                               problem: "split `\(split)` not found; expected \(split)/<class>/<image> or \(split)/images/<class>/<image>")
        }
        if options.requireMasks && options.maskFormat.usesMaskFiles && !listing.layout.hasMaskFiles {
            throw ImageDataError.invalidLayout(path: DatasetLayout.join(root, split),
                problem: "split `\(split)` has no masks (\(listing.layout.rawValue) layout), so only the `full` view exists; "
                    + "use only `full` train and test views, or add masks as \(split)/masks/<class>/<image stem>.png beside \(split)/images/<class>/")
        }
        guard let directory = options.cacheDirectory else {
            return try decode(layout: layout, listing: listing, options: options, log: log)
        }
        let cache = PackedCache(directory: directory)
        let key = try PackedCache.key(root: root, listing: listing, options: options)
        let loaded = try cache.loadOrBuild(split: split, key: key, memoryBudget: options.memoryBudgetBytes, log: log) {
            try decode(layout: layout, listing: listing, options: options, log: log)
        }
        return loaded
    }

    /// Decodes every sample of `listing` in parallel (chunks of 512, a progress line every few seconds).
    /// - Parameter layoutIssues: the folder's layout problems to report with the samples' (nil:
    ///   `layout.issues`, none for `unlabeled`).
    static func decode(layout: DatasetLayout, listing: SplitListing, options: DatasetOptions, log: ((String) -> Void)?,
                       layoutIssues: [DatasetIssue]? = nil) throws -> DatasetSplit {
        let start = Date()
        let root = layout.root, split = listing.name
        let layoutIssues = layoutIssues ?? (split == DatasetLayout.unlabeledSplit ? [] : layout.issues(maskFormat: options.maskFormat))
        let samples = listing.samples
        let format = options.maskFormat, s = options.size, filter = options.resize
        var issues = layoutIssues
        var pixels: [UInt8] = [], masks: [UInt8] = [], labels: [Int] = [], paths: [String] = []
        pixels.reserveCapacity(samples.count * s * s * 3)
        masks.reserveCapacity(samples.count * s * s)
        var skipped = 0
        var lastLog = Date()
        let chunk = 512
        for first in stride(from: 0, to: samples.count, by: chunk) {
            let n = min(chunk, samples.count - first)
            let decoded = parallelMap(n) { k -> (InspectedSample, [UInt8], [UInt8]) in
                let inspected = inspect(samples[first + k], format: format, keepPixels: true)
                guard !inspected.isBad, let image = inspected.image, let mask = inspected.mask else { return (inspected, [], []) }
                let px = Resize.resize(image.rgb, width: image.width, height: image.height, channels: 3, to: s, s, filter: filter)
                let mk = Resize.resize(mask.weights, width: mask.width, height: mask.height, channels: 1, to: s, s, filter: filter)
                return (inspected, px, mk)
            }
            for (k, (inspected, px, mk)) in decoded.enumerated() {
                issues += inspected.issues
                if inspected.isBad { skipped += 1; continue }
                pixels += px
                masks += mk
                labels.append(samples[first + k].label)
                paths.append(samples[first + k].imagePath)
            }
            if let log, Date().timeIntervalSince(lastLog) >= 5, first + n < samples.count {
                lastLog = Date()
                let done = first + n, elapsed = Date().timeIntervalSince(start)
                let rate = Double(done) / max(elapsed, 1e-9)
                log(String(format: "decoding %@ of %@: %d/%d images, %.0f images/s, ETA %.0f s", split, root, done, samples.count, rate,
                           Double(samples.count - done) / max(rate, 1e-9)))
            }
        }
        if options.onBadSample == .fail && issues.contains(where: { $0.severity == .error }) {
            throw ImageDataError.badSamples(issues)
        }
        guard !labels.isEmpty else {
            throw ImageDataError.invalidLayout(path: DatasetLayout.join(root, split), problem: "no usable samples in split `\(split)`")
        }
        let hasMasks = !format.usesMaskFiles || listing.layout.hasMaskFiles
        var out = DatasetSplit(name: split, classes: layout.classes, size: s, pixels: pixels, masks: masks, labels: labels,
                               paths: paths, skippedCount: skipped, issues: issues, hasMasks: hasMasks)
        out.origin = .decoded(seconds: Date().timeIntervalSince(start))
        return out
    }
}
