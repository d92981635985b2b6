import CKernels

/// The log-softmax row kernels (`CKernels/softmax_rows.h`): the AVX2 + FMA build where the CPU
/// has it, the portable build elsewhere; both give the same bits. The exponential inside is
/// Cephes' single-precision scheme (≤ 2 ulp; subnormal results flushed to 0), not libm's `expf`.
enum SoftmaxRows {
    static let avx2 = CPUFeatures.hasAVX2FMA

    /// `out = x − logΣexp(x)` over `rows` contiguous rows of `n`.
    static func forward(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, n: Int, avx2: Bool = avx2) {
        if avx2 { bd_log_softmax_rows_avx2(x, out, rows, n) } else { bd_log_softmax_rows_portable(x, out, rows, n) }
    }

    /// `dx = g − exp(output) · Σ g` per row (0 where `output` is `−∞`).
    static func backward(output: UnsafePointer<Float>, gradient: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, rows: Int, n: Int,
                         avx2: Bool = avx2) {
        if avx2 { bd_log_softmax_backward_rows_avx2(output, gradient, dx, rows, n) }
        else { bd_log_softmax_backward_rows_portable(output, gradient, dx, rows, n) }
    }

    /// The kernels' exponential of each value (tests).
    static func exp(_ x: [Float], avx2: Bool = avx2) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                if avx2 { bd_exp_approx_avx2(xp.baseAddress, yp.baseAddress, x.count) }
                else { bd_exp_approx_portable(xp.baseAddress, yp.baseAddress, x.count) }
            }
        }
        return y
    }

    /// Runs `body` over the rows of a `[outer, n, inner]` layout, split across the workers. With
    /// `inner == 1` the rows are contiguous and `body` reads and writes them in place; otherwise
    /// each strided row is gathered into a contiguous buffer first and its result scattered back,
    /// so every layout runs the same row kernel.
    /// - Parameter body: (input rows, output rows, row count).
    static func forEachRow(outer: Int, n: Int, inner: Int, inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>,
                           _ body: ([UnsafePointer<Float>], UnsafeMutablePointer<Float>, Int) -> Void) {
        guard n > 0 else { return }
        if inner == 1 {
            Parallel.forEachChunk(outer, costPerItem: 8 * n, minimumWork: 1 << 18) { rows in
                body(inputs.map { $0 + rows.lowerBound * n }, output + rows.lowerBound * n, rows.count)
            }
            return
        }
        Parallel.forEachChunk(outer * inner, costPerItem: 8 * n, minimumWork: 1 << 18) { rows in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: (inputs.count + 1) * n)
            defer { buffer.deallocate() }
            let rowOut = buffer + inputs.count * n
            for row in rows {
                let base = (row / inner) * n * inner + row % inner
                for (t, input) in inputs.enumerated() { for j in 0..<n { buffer[t * n + j] = input[base + j * inner] } }
                body(inputs.indices.map { UnsafePointer(buffer + $0 * n) }, rowOut, 1)
                for j in 0..<n { output[base + j * inner] = rowOut[j] }
            }
        }
    }
}
