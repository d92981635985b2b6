// Strided convolutions through phase planes: im2col and col2im for a stride-s convolution whose
// output is its input divided by s, by shifted block copies of the input's s² phase planes.

extension ConvKernels {
    /// Stride s > 1 with the output exactly the input divided by s (3×3/s2/p1 and 1×1/s2/p0 on
    /// even planes). Once the input is split into its s² phase planes
    /// `P[a][b][y][x] = X[s·y + a][s·x + b]`, every patch row is a shifted copy of one phase plane:
    /// tap (i, j) reads phase ((i − p) mod s, (j − p) mod s) shifted by (⌊(i − p)/s⌋, ⌊(j − p)/s⌋).
    /// Strided convolutions so get the same whole-block copies as stride-1 ones instead of a
    /// gather per pixel.
    static func isPhaseShiftable(_ g: Conv2dGeometry) -> Bool {
        g.stride > 1 && g.outHeight * g.stride == g.height && g.outWidth * g.stride == g.width
    }

    /// Phase and shift of kernel offset `t` (a row or column tap) for stride `s`, padding `p`.
    @inline(__always)
    static func phase(_ t: Int, stride s: Int, padding p: Int) -> (phase: Int, shift: Int) {
        let a = ((t - p) % s + s) % s
        return (a, (t - p - a) / s)
    }

    /// What tap (i, j) of channel `c` touches: its patch row for image slot `bi` in `col`
    /// (leading dimension `ld`), the offset of its phase plane in the `[s²][outPlane]` buffer, and
    /// the shift (dy, dx) of that plane.
    @inline(__always)
    static func phaseTap(_ g: Conv2dGeometry, channel c: Int, _ i: Int, _ j: Int, slot bi: Int, ld: Int,
                         _ col: UnsafeMutablePointer<Float>) -> (row: UnsafeMutablePointer<Float>, plane: Int, dy: Int, dx: Int) {
        let (a, dy) = phase(i, stride: g.stride, padding: g.padding), (b, dx) = phase(j, stride: g.stride, padding: g.padding)
        return (col + ((c * g.kernelH + i) * g.kernelW + j) * ld + bi * g.outPlane, (a * g.stride + b) * g.outPlane, dy, dx)
    }

    /// `dst[r][c] = src[r + dy][c + dx]` on a `rows × cols` plane, 0 where that lies outside.
    @inline(__always)
    static func copyShifted(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, rows: Int, cols: Int, dy: Int, dx: Int) {
        let rLo = max(0, -dy), rHi = min(rows, rows - dy), cLo = max(0, -dx), cHi = min(cols, cols - dx)
        guard rLo < rHi, cLo < cHi else { dst.update(repeating: 0, count: rows * cols); return }
        dst.update(repeating: 0, count: rLo * cols)
        let start = rLo * cols + cLo, end = (rHi - 1) * cols + cHi
        (dst + start).update(from: src + start + dy * cols + dx, count: end - start)
        (dst + rHi * cols).update(repeating: 0, count: (rows - rHi) * cols)
        zeroEdgeColumns(dst, rows: rLo..<rHi, width: cols, lo: cLo, hi: cHi)
    }

    /// `dst[r + dy][c + dx] += src[r][c]` where that lies inside the `rows × cols` plane. `src` is
    /// scratch: entries that fall outside are zeroed so the rest adds as one block.
    @inline(__always)
    static func accumulateShifted(_ src: UnsafeMutablePointer<Float>, into dst: UnsafeMutablePointer<Float>, rows: Int, cols: Int, dy: Int, dx: Int) {
        let rLo = max(0, -dy), rHi = min(rows, rows - dy), cLo = max(0, -dx), cHi = min(cols, cols - dx)
        guard rLo < rHi, cLo < cHi else { return }
        zeroEdgeColumns(src, rows: rLo..<rHi, width: cols, lo: cLo, hi: cHi)
        let start = rLo * cols + cLo, end = (rHi - 1) * cols + cHi
        Vector.accumulate(src + start, into: dst + start + dy * cols + dx, end - start)
    }

    /// `phases[a][b][y][x] = plane[s·y + a][s·x + b]` for a `[s·Ho, s·Wo]` plane.
    @inline(__always)
    static func splitPhases(_ plane: UnsafePointer<Float>, into phases: UnsafeMutablePointer<Float>, stride s: Int, outHeight Ho: Int, outWidth Wo: Int) {
        let W = s * Wo, hw = Ho * Wo
        for a in 0..<s {
            for y in 0..<Ho {
                let src = plane + (y * s + a) * W
                var xo = 0
                if s == 2 {
                    // 16 consecutive inputs hold 8 outputs of each column phase.
                    let even = phases + a * 2 * hw + y * Wo, odd = even + hw
                    while xo + 8 <= Wo {
                        let v = UnsafeRawPointer(src + 2 * xo).loadUnaligned(as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(even + xo).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(odd + xo).storeBytes(of: v.oddHalf, as: SIMD8<Float>.self)
                        xo += 8
                    }
                }
                for bb in 0..<s {
                    let dst = phases + (a * s + bb) * hw + y * Wo
                    for x in xo..<Wo { dst[x] = src[x * s + bb] }
                }
            }
        }
    }

    /// The inverse of `splitPhases`: `plane[s·y + a][s·x + b] = phases[a][b][y][x]`.
    @inline(__always)
    static func mergePhases(_ phases: UnsafePointer<Float>, into plane: UnsafeMutablePointer<Float>, stride s: Int, outHeight Ho: Int, outWidth Wo: Int) {
        let W = s * Wo, hw = Ho * Wo
        for a in 0..<s {
            for y in 0..<Ho {
                let dst = plane + (y * s + a) * W
                if s == 2 {
                    let even = phases + a * 2 * hw + y * Wo, odd = even + hw
                    for x in 0..<Wo { dst[2 * x] = even[x]; dst[2 * x + 1] = odd[x] }   // contiguous writes
                } else {
                    for x in 0..<Wo { for bb in 0..<s { dst[x * s + bb] = phases[(a * s + bb) * hw + y * Wo + x] } }
                }
            }
        }
    }

    @inline(never)
    static func im2colPhases(_ g: Conv2dGeometry, _ x: UnsafePointer<Float>, images: Range<Int>, _ col: UnsafeMutablePointer<Float>) {
        let (s, H, W, Ho, Wo) = (g.stride, g.height, g.width, g.outHeight, g.outWidth)
        let hw = g.outPlane, ld = images.count * hw
        withUnsafeTemporaryAllocation(of: Float.self, capacity: s * s * hw) { buffer in
            let phases = buffer.baseAddress!
            for (bi, b) in images.enumerated() { for c in 0..<g.inChannels {
                splitPhases(x + (b * g.inChannels + c) * H * W, into: phases, stride: s, outHeight: Ho, outWidth: Wo)
                for i in 0..<g.kernelH { for j in 0..<g.kernelW {
                    let tap = phaseTap(g, channel: c, i, j, slot: bi, ld: ld, col)
                    copyShifted(phases + tap.plane, tap.row, rows: Ho, cols: Wo, dy: tap.dy, dx: tap.dx)
                } }
            } }
        }
    }

    /// The adjoint of `im2colPhases`: taps add into the s² phase planes, which then *write* every
    /// input pixel of `dx` (each pixel lies in exactly one phase), so `dx` need not be zeroed.
    @inline(never)
    static func col2imPhases(_ g: Conv2dGeometry, _ col: UnsafeMutablePointer<Float>, images: Range<Int>, _ dx: UnsafeMutablePointer<Float>) {
        let (s, H, W, Ho, Wo) = (g.stride, g.height, g.width, g.outHeight, g.outWidth)
        let hw = g.outPlane, ld = images.count * hw
        withUnsafeTemporaryAllocation(of: Float.self, capacity: s * s * hw) { buffer in
            let phases = buffer.baseAddress!
            for (bi, b) in images.enumerated() { for c in 0..<g.inChannels {
                phases.update(repeating: 0, count: s * s * hw)
                for i in 0..<g.kernelH { for j in 0..<g.kernelW {
                    let tap = phaseTap(g, channel: c, i, j, slot: bi, ld: ld, col)
                    accumulateShifted(tap.row, into: phases + tap.plane, rows: Ho, cols: Wo, dy: tap.dy, dx: tap.dx)
                } }
                mergePhases(phases, into: dx + (b * g.inChannels + c) * H * W, stride: s, outHeight: Ho, outWidth: Wo)
            } }
        }
    }
}
