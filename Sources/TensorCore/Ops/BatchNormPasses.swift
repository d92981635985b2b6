import CKernels
import Foundation

/// Batch normalization's passes over each `[n, c]` plane (`CKernels/batch_norm_passes.h`): the
/// AVX2 builds where the CPU has AVX2 — the same float operations in the same order as the
/// `Vector` loops, so the same bits, at twice their vector width — and `Vector`'s loops elsewhere.
///
/// Outputs too large to still be cached when their reader comes are written with streaming
/// stores: a regular store first reads every line it writes (read-for-ownership), which for such
/// outputs is wasted memory traffic. The implicit convolutions (`ImplicitConvolution`) stream
/// theirs on the same rule.
enum BatchNormPasses {
    /// How batch norm's passes run: whether the AVX2 builds run, and from what output size on
    /// outputs are streamed.
    struct Settings: Sendable {
        /// The AVX2 builds run (else `Vector`'s loops; the same bits).
        var avx2: Bool
        /// Outputs of at least this many bytes are written with streaming stores (AVX2 only).
        var minimumStreamingBytes: Int

        /// Whether an output of `count` floats is written with streaming stores.
        func streams(count: Int) -> Bool { avx2 && count * MemoryLayout<Float>.stride >= minimumStreamingBytes }
    }

    /// The environment variable that overrides the default `minimumStreamingBytes` (bytes; 0
    /// streams every output) — for measurements on other machines.
    static let streamingEnvironmentVariable = "BACKDROP_STREAMING_MIN_BYTES"

    /// This process's settings: the AVX2 builds where the CPU has AVX2 + FMA; outputs of 4 MiB and
    /// more streamed (or `BACKDROP_STREAMING_MIN_BYTES`). On the reference rows 0, 4 and 16 MiB
    /// were within 2% of each other and never streaming 5–11% slower (BENCHMARKS.md); 4 MiB keeps
    /// small outputs cached where a cache holds them. The OS's cache sizes are no guide: a VM
    /// measured here reports 320 MB of L3 for the 32 MiB its cores share.
    static let processSettings = Settings(avx2: CPUFeatures.hasAVX2FMA, minimumStreamingBytes: (try? environmentMinimum.get()) ?? defaultMinimumStreamingBytes)

    /// The threshold without `BACKDROP_STREAMING_MIN_BYTES`.
    static let defaultMinimumStreamingBytes = 4 << 20

    /// `BACKDROP_STREAMING_MIN_BYTES` of this process, read once: its value, the default when unset
    /// or empty, or why it is refused.
    private static let environmentMinimum: Result<Int, InvalidOption> = {
        Result { try minimumStreamingBytes(ProcessInfo.processInfo.environment[streamingEnvironmentVariable]) }
            .mapError { $0 as? InvalidOption ?? InvalidOption(key: streamingEnvironmentVariable, message: "\($0)") }
    }()

    /// The threshold a `BACKDROP_STREAMING_MIN_BYTES` value sets: a whole number of bytes ≥ 0
    /// (`nil`/empty: the default).
    /// - Throws: `InvalidOption` naming the variable for anything else.
    static func minimumStreamingBytes(_ value: String?) throws -> Int {
        guard let value, !value.trimmingCharacters(in: .whitespaces).isEmpty else { return defaultMinimumStreamingBytes }
        guard let bytes = Int(value.trimmingCharacters(in: .whitespaces)), bytes >= 0 else {
            throw InvalidOption(key: streamingEnvironmentVariable, value: value,
                                reason: "use a whole number of bytes ≥ 0 (0 streams every output; unset it for the default, \(defaultMinimumStreamingBytes))")
        }
        return bytes
    }

    /// Throws the `InvalidOption` of a bad `BACKDROP_STREAMING_MIN_BYTES`, if any
    /// (`Tensor.checkKernelEnvironment`).
    static func checkEnvironment() throws {
        if case .failure(let error) = environmentMinimum { throw error }
    }

    @TaskLocal private static var override: Settings?

    /// The settings here: a `withSettings` override, else `processSettings`. Read it on the
    /// calling thread (workers do not see task-local overrides) and pass it down.
    static var current: Settings { override ?? processSettings }

    /// Runs `body` with `settings` (tests run every combination side by side); `avx2` requires a
    /// CPU with AVX2 + FMA.
    static func withSettings<R>(_ settings: Settings, _ body: () throws -> R) rethrows -> R {
        precondition(!settings.avx2 || CPUFeatures.hasAVX2FMA, "batch norm's AVX2 passes do not run on this CPU")
        return try $override.withValue(settings, operation: body)
    }

    /// `Vector.sum`.
    @inline(__always) static func sum(_ p: UnsafePointer<Float>, _ n: Int, avx2: Bool) -> Float {
        avx2 ? bd_sum_avx2(p, n) : Vector.sum(p, n)
    }

    /// `Vector.sumSquaredDeviation`.
    @inline(__always) static func sumSquaredDeviation(_ p: UnsafePointer<Float>, _ n: Int, _ m: Float, avx2: Bool) -> Float {
        avx2 ? bd_sum_squared_deviation_avx2(p, n, m) : Vector.sumSquaredDeviation(p, n, m)
    }

    /// `Vector.sumAndCenteredDot`.
    @inline(__always) static func sumAndCenteredDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, _ m: Float,
                                                    reluOf affine: (a: Float, b: Float)?, avx2: Bool) -> (Float, Float) {
        guard avx2 else { return Vector.sumAndCenteredDot(g, x, n, m, reluOf: affine) }
        var sums: (Float, Float) = (0, 0)
        withUnsafeMutableBytes(of: &sums) { raw in
            bd_sum_and_centered_dot_avx2(g, x, n, m, affine == nil ? 0 : 1, affine?.a ?? 0, affine?.b ?? 0,
                                         raw.baseAddress!.assumingMemoryBound(to: Float.self))
        }
        return sums
    }

    /// `Vector.affine` / `affineReLU` / `affineAddReLU` (by `output`), with streaming stores when
    /// `streaming` (then call `fence()` before another thread reads `y`).
    @inline(__always) static func write(_ output: Tensor.NormalizedOutput, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                        offset o: Int, _ n: Int, _ a: Float, _ b: Float, streaming: Bool) {
        switch output {
        case .affine where streaming: bd_affine_streaming_avx2(x + o, nil, y + o, n, a, b, 0)
        case .relu where streaming: bd_affine_streaming_avx2(x + o, nil, y + o, n, a, b, 1)
        case .addReLU(let r) where streaming: bd_affine_streaming_avx2(x + o, r + o, y + o, n, a, b, 1)
        case .affine: Vector.affine(x + o, y + o, n, a, b)
        case .relu: Vector.affineReLU(x + o, y + o, n, a, b)
        case .addReLU(let r): Vector.affineAddReLU(x + o, r + o, y + o, n, a, b)
        }
    }

    /// `Vector.batchNormInputGradient`, with streaming stores when `streaming` (then call `fence()`
    /// before another thread reads `dx`).
    @inline(__always) static func inputGradient(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                                _ n: Int, k: Float, M: Float, s: Float, m: Float, c: Float,
                                                reluOf affine: (a: Float, b: Float)?, streaming: Bool) {
        if streaming {
            bd_batch_norm_input_gradient_streaming_avx2(g, x, dx, n, k, M, s, m, c, affine == nil ? 0 : 1, affine?.a ?? 0, affine?.b ?? 0)
        } else {
            Vector.batchNormInputGradient(g, x, dx, n, k: k, M: M, s: s, m: m, c: c, reluOf: affine)
        }
    }

    /// `Vector.reluBackward` (`dx = out > 0 ? g : 0`, runs split across workers), with streaming
    /// stores when `streaming` (each worker fences after its runs).
    static func reluBackward(_ g: UnsafePointer<Float>, _ out: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int,
                             streaming: Bool) {
        guard streaming else { return Vector.reluBackward(g, out, dx, n) }
        nonisolated(unsafe) let (g, out, dx) = (g, out, dx)
        Vector.parallelRuns(n) { r in
            bd_relu_backward_streaming_avx2(g + r.lowerBound, out + r.lowerBound, dx + r.lowerBound, r.count)
            fence()
        }
    }

    /// Orders this thread's streaming stores before its later stores.
    @inline(__always) static func fence() { bd_streaming_fence() }
}

extension Tensor {
    /// The output size in bytes from which batch norm and the implicit convolutions write with
    /// streaming stores here (`nil`: never, the CPU has no AVX2). Speed only — the values do not
    /// depend on it; benchmarks record it beside the kernels.
    public static var streamingMinimumBytes: Int? {
        let settings = BatchNormPasses.current
        return settings.avx2 ? settings.minimumStreamingBytes : nil
    }
}
