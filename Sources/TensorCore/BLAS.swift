import CBLAS
import Foundation

/// Thin wrappers over OpenBLAS's `cblas_sgemm`, row-major.
public enum BLAS {
    /// Pins OpenBLAS to one thread: kernels own the parallelism (`Parallel`).
    public static let configureOnce: Void = { openblas_set_num_threads(1) }()

    /// The linked OpenBLAS as it describes itself (`openblas_get_config`), e.g.
    /// `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64`: version, build options
    /// and the core kernel set it picked on this CPU.
    public static var libraryDescription: String {
        guard let config = openblas_get_config() else { return "OpenBLAS (no configuration string)" }
        return String(cString: config).trimmingCharacters(in: .whitespaces)
    }

    /// `C[m×n] = alpha · op(A) · op(B) + beta · C`, all row-major.
    /// - Parameters:
    ///   - transA: use Aᵀ, where A is stored `[k×m]` (else `[m×k]`) with leading dimension `lda`.
    ///   - transB: use Bᵀ, where B is stored `[n×k]` (else `[k×n]`) with leading dimension `ldb`.
    @inline(__always)
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        _ = configureOnce
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            else if beta != 1 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } } }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
