import CKernels
import Foundation

/// Which kernels run the convolutions that tile by 16 (stride 1 or 2, channels and planes in whole
/// 16s; `ImplicitConvolution`): the implicit-GEMM kernels built for AVX-512 or for AVX2 + FMA, or
/// im2col + OpenBLAS like every other convolution. The two implicit builds run every output's sums
/// in the same order and agree bit for bit; im2col + OpenBLAS sums in another order, so a long
/// training run ends in different float32 round-off (run provenance records the path).
/// `avx512-winograd` is the AVX-512 build with 3 × 3, stride-1, padding-1 convolutions by
/// Winograd's minimal filtering (`WinogradConvolution`: F(2 × 2, 3 × 3) forward and for the input
/// gradient, F(3 × 3, 2 × 2) for the weight gradient): 2.25× fewer multiplies, sums that differ
/// from the direct ones by round-off.
///
/// The process default is the fastest path this CPU runs, or the one the environment variable
/// `BACKDROP_KERNELS` (`avx512-winograd`, `avx512`, `avx2`, `blas`) forces — for tests,
/// comparisons, bug reports, and results that agree bit for bit across AVX-512 and AVX2 machines
/// (`avx512` or `avx2`).
/// `withPath(_:_:)` overrides it for one piece of work (tests run every path side by side).
public enum ConvolutionKernelPath: String, CaseIterable, Sendable, CustomStringConvertible {
    case avx512Winograd = "avx512-winograd", avx512, avx2, blas

    /// The environment variable that forces a path.
    public static let environmentVariable = "BACKDROP_KERNELS"

    /// The paths this CPU and OS can run, fastest first (`blas` always).
    public static let supported: [ConvolutionKernelPath] = {
        var paths: [ConvolutionKernelPath] = []
        if CPUFeatures.hasAVX512 { paths += [.avx512Winograd, .avx512] }
        if CPUFeatures.hasAVX2FMA { paths.append(.avx2) }
        return paths + [.blas]
    }()

    /// The fastest path this CPU runs.
    public static var fastest: ConvolutionKernelPath { supported[0] }

    /// The path `value` (of `BACKDROP_KERNELS`) names; `nil`/empty → `fastest`.
    /// - Throws: `InvalidOption` naming the variable when the value is unknown or this CPU cannot
    ///   run it.
    public static func resolve(_ value: String?) throws -> ConvolutionKernelPath {
        guard let value, !value.trimmingCharacters(in: .whitespaces).isEmpty else { return fastest }
        let name = value.trimmingCharacters(in: .whitespaces).lowercased()
        guard let path = ConvolutionKernelPath(rawValue: name) else {
            throw InvalidOption(key: environmentVariable, value: value,
                                reason: "use one of \(allCases.map(\.rawValue).joined(separator: ", ")) (or unset it for the fastest this CPU runs)")
        }
        guard supported.contains(path) else {
            throw InvalidOption(key: environmentVariable, value: value,
                                reason: "this CPU cannot run the \(path) kernels; it runs \(supported.map(\.rawValue).joined(separator: ", "))")
        }
        return path
    }

    /// `BACKDROP_KERNELS` of this process, resolved once. Front ends call
    /// `Tensor.checkKernelEnvironment()` at start so that a bad value stops the command with its
    /// message; library code that reads `current` without that check falls back to `fastest`.
    private static let environmentPath: Result<ConvolutionKernelPath, InvalidOption> = {
        do { return .success(try resolve(ProcessInfo.processInfo.environment[environmentVariable])) }
        catch let error as InvalidOption { return .failure(error) }
        catch { return .success(fastest) }
    }()

    /// Throws the `InvalidOption` of a bad `BACKDROP_KERNELS`, if any.
    static func checkEnvironment() throws {
        if case .failure(let error) = environmentPath { throw error }
    }

    @TaskLocal private static var override: ConvolutionKernelPath?

    /// The path convolutions take here: a `withPath` override, else `BACKDROP_KERNELS`, else the
    /// fastest.
    public static var current: ConvolutionKernelPath {
        if let path = override { return path }
        if case .success(let path) = environmentPath { return path }
        return fastest
    }

    /// Runs `body` with convolutions on `path` (which this CPU must support).
    public static func withPath<R>(_ path: ConvolutionKernelPath, _ body: () throws -> R) rethrows -> R {
        precondition(supported.contains(path), "the \(path) kernels do not run on this CPU (it runs \(supported))")
        return try $override.withValue(path, operation: body)
    }

    /// The path runs the AVX-512 builds of the implicit kernels.
    public var usesAVX512: Bool { self == .avx512 || self == .avx512Winograd }

    /// What provenance and benchmarks record: `avx512-winograd`, `avx512-implicit`,
    /// `avx2-implicit` (convolutions that tile by 16 in those kernels, the rest im2col + OpenBLAS)
    /// or `im2col-openblas`.
    public var provenanceName: String {
        switch self {
        case .avx512Winograd: "avx512-winograd"
        case .avx512: "avx512-implicit"
        case .avx2: "avx2-implicit"
        case .blas: "im2col-openblas"
        }
    }

    public var description: String { rawValue }
}

extension Tensor {
    /// Checks every environment variable the kernels read — `BACKDROP_KERNELS` and
    /// `BACKDROP_STREAMING_MIN_BYTES` — so a front end can stop on a bad value, naming it, before
    /// any work (library code that reads them unchecked falls back to the defaults).
    /// - Throws: the first variable's `InvalidOption`.
    public static func checkKernelEnvironment() throws {
        try ConvolutionKernelPath.checkEnvironment()
        try BatchNormPasses.checkEnvironment()
    }
}
