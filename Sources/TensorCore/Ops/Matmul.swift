// Matrix multiplication on cblas_sgemm.

extension Tensor {
    /// `op(a) · op(b)` for 2-D tensors, where `op` optionally transposes.
    ///
    /// Shapes: `a` is `[m, k]` (or `[k, m]` with `transposeA`), `b` is `[k, n]` (or `[n, k]` with
    /// `transposeB`); the result is `[m, n]`.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul: expected 2-D operands, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
        let k2 = transposeB ? b.shape[1] : b.shape[0], n = transposeB ? b.shape[0] : b.shape[1]
        precondition(k == k2, "matmul: inner extents differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "") (\(k) vs \(k2))")
        let out = Tensor.uninitialized([m, n])
        gemm(a, b, transposeA, transposeB, into: out, m: m, n: n, k: k)
        return record("matmul", result: out, inputs: [a, b]) { g in
            productGradients(a, b, g, transposeA, transposeB) { matmul($0, $1, transposeA: $2, transposeB: $3) }
        }
    }

    /// `[dA, dB]` of `C = op(A)·op(B)` for the output gradient `g`, with `product(x, y, tx, ty)` the
    /// op itself (`matmul`, or `batchedMatmul` slice by slice): dA = dC·Bᵀ, dB = Aᵀ·dC, adjusted for
    /// stored transposes; nil for an untracked operand.
    private static func productGradients(_ a: Tensor, _ b: Tensor, _ g: Tensor, _ transposeA: Bool, _ transposeB: Bool,
                                         _ product: (Tensor, Tensor, Bool, Bool) -> Tensor) -> [Tensor?] {
        let da: Tensor? = a.isTracked ? (transposeA ? product(b, g, transposeB, true) : product(g, b, false, !transposeB)) : nil
        let db: Tensor? = b.isTracked ? (transposeB ? product(g, a, true, transposeA) : product(a, g, !transposeA, false)) : nil
        return [da, db]
    }

    static func gemm(_ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool, into out: Tensor, m: Int, n: Int, k: Int) {
        gemm(a.pointer, lda: a.shape[1], b.pointer, ldb: b.shape[1], ta, tb, into: out.storage.pointer, m: m, n: n, k: k)
    }

    /// `C = op(A)·op(B)` into `pc` `[m, n]` (row-major, leading dimensions `lda`, `ldb`, `n`).
    static func gemm(_ pa: UnsafePointer<Float>, lda: Int, _ pb: UnsafePointer<Float>, ldb: Int, _ ta: Bool, _ tb: Bool,
                     into pc: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int) {
        // Split C along its longer side (OpenBLAS itself runs single-threaded): each slice packs only
        // its own part of the operand on that side, and the short operand, which every slice packs,
        // is the cheap one (e.g. kNN similarities [512, 45 405] or a probe's gradient [9, 512] summed
        // over 45 405 rows). The slices are fixed by the shape (`gemmSlices`), not by the worker
        // count: OpenBLAS may round a slice differently from the whole product (other kernels for
        // small products and edges), so any other cut could change the result's bits.
        let work = m * n * k
        let splitColumns = n > m
        let extent = splitColumns ? n : m
        let slices = gemmSlices(extent: extent)
        if work < 1 << 20 || slices < 2 {
            BLAS.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, a: pa, lda: lda, b: pb, ldb: ldb, c: pc, ldc: n)
            return
        }
        Parallel.forEachChunk(extent, costPerItem: (splitColumns ? m : n) * k, minimumWork: 0, pieces: slices) { part in
            if splitColumns {
                let bColumns = tb ? pb + part.lowerBound * ldb : pb + part.lowerBound
                BLAS.sgemm(transA: ta, transB: tb, m: m, n: part.count, k: k, a: pa, lda: lda,
                           b: bColumns, ldb: ldb, c: pc + part.lowerBound, ldc: n)
            } else {
                let aRows = ta ? pa + part.lowerBound : pa + part.lowerBound * lda
                BLAS.sgemm(transA: ta, transB: tb, m: part.count, n: n, k: k, a: aRows, lda: lda,
                           b: pb, ldb: ldb, c: pc + part.lowerBound * n, ldc: n)
            }
        }
    }

    /// `op(a_i)·op(b_i)` for every i of the leading axis: `a` `[B, m, k]` (`[B, k, m]` with
    /// `transposeA`), `b` `[B, k, n]` (`[B, n, k]` with `transposeB`). Output `[B, m, n]`. Each
    /// product is exactly `matmul` of the two slices (the same GEMM calls, so the same bits), one
    /// op instead of B slices, products and a concatenation.
    public static func batchedMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 3 && b.rank == 3 && a.shape[0] == b.shape[0], "batchedMatmul: expected [B, ·, ·] operands with the same B, got \(a.shape) and \(b.shape)")
        let batch = a.shape[0]
        let m = transposeA ? a.shape[2] : a.shape[1], k = transposeA ? a.shape[1] : a.shape[2]
        let k2 = transposeB ? b.shape[2] : b.shape[1], n = transposeB ? b.shape[1] : b.shape[2]
        precondition(k == k2, "batchedMatmul: inner extents differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "") (\(k) vs \(k2))")
        let out = Tensor.uninitialized([batch, m, n])
        let (aSize, bSize) = (a.shape[1] * a.shape[2], b.shape[1] * b.shape[2])
        let (pa, pb, pc) = (a.pointer, b.pointer, out.storage.pointer)
        for i in 0..<batch {
            gemm(pa + i * aSize, lda: a.shape[2], pb + i * bSize, ldb: b.shape[2], transposeA, transposeB, into: pc + i * m * n, m: m, n: n, k: k)
        }
        return record("batchedMatmul", result: out, inputs: [a, b]) { g in
            productGradients(a, b, g, transposeA, transposeB) { batchedMatmul($0, $1, transposeA: $2, transposeB: $3) }
        }
    }

    /// Slices a large product's longer side (`extent` rows or columns) is cut into: at least
    /// `gemmSliceMinimum` each, at most `gemmSliceLimit` — enough to balance 2–8 workers (as the
    /// convolutions' fixed weight-gradient groups), few enough that packing the short operand once
    /// per slice stays cheap: a slice of `e` rows reuses each packed element of the short operand
    /// `e` times (a probe's gradient packs 45 405 × 9 floats per slice; measured on 2 workers, 8
    /// slices of 64 rows were 25 % slower than 2, 4 of 128 are the compromise). Depends on the
    /// shape only.
    static func gemmSlices(extent: Int) -> Int { min(gemmSliceLimit, extent / gemmSliceMinimum) }
    static let gemmSliceMinimum = 128
    static let gemmSliceLimit = 8

    /// `self · other` (2-D).
    public func matmul(_ other: Tensor) -> Tensor { Tensor.matmul(self, other) }
}
