import CKernels

/// Strided convolutions as implicit GEMMs on phase planes (the `avx2` path).
///
/// A stride-s convolution whose output is its input divided by s (`ConvKernels.isPhaseShiftable`:
/// 3 × 3/2 padding 1 and the 1 × 1/2 shortcuts of a ResNet) reads, at tap (i, j), the input's
/// phase plane `P[a][b][y][x] = X[s·y + a][s·x + b]` with `a = (i − p) mod s`, shifted by
/// `⌊(i − p)/s⌋` rows (`ConvKernels.phase`; the same for columns). So:
///
/// - **Forward**: gather the phase planes the taps read (all s² for 3 × 3/2, only `P[0][0]` for
///   1 × 1/2), then run the stride-1 kernel with each tap pointed at its own phase plane
///   (`bd_implicit_conv.tap_row_plane`/`tap_col_plane`). `K = Ci·kh·kw` exactly: no multiply by a
///   zero weight, and one pass over the input instead of im2col's `kh·kw`.
/// - **Input gradient**: phase (a, b) of `dx` is a stride-1 convolution of `dy` with the taps of
///   that phase only, shifts negated and weights transposed in channels; each phase is written
///   straight into its planes (`out_channel_stride`), phases no tap reads are zero, and one pass
///   interleaves the phases back into `dx`. No `dCol` product and no `col2im` scatter-add.
///
/// The weight gradient stays on im2col + OpenBLAS. The AVX-512 build reads only the plain layout,
/// so these run on the `avx2` path only (`isPhasePlaneImplicit`).
extension ImplicitConvolution {
    /// `g` is strided with output = input / stride, on the `avx2` path, kernel within
    /// `BD_MAX_TAPS`: the forward pass and input gradient can run on phase planes.
    static func isPhasePlaneImplicit(_ g: Conv2dGeometry, on path: ConvolutionKernelPath) -> Bool {
        path == .avx2 && ConvKernels.isPhaseShiftable(g) && g.kernelH <= Int(BD_MAX_TAPS) && g.kernelW <= Int(BD_MAX_TAPS)
    }

    /// The taps of one spatial dimension of `g` (kernel size `kernel`): each tap's phase and shift,
    /// and the phases any tap reads, ascending.
    struct PhaseTaps {
        let taps: [(phase: Int, shift: Int)]
        let phases: [Int]

        init(kernel: Int, stride: Int, padding: Int) {
            taps = (0..<kernel).map { ConvKernels.phase($0, stride: stride, padding: padding) }
            phases = Set(taps.map(\.phase)).sorted()
        }

        /// Index of `taps[t]`'s phase among `phases`.
        func slot(_ t: Int) -> Int { phases.firstIndex(of: taps[t].phase)! }
    }

    /// `y[N, Co, Ho, Wo]` for a strided `g` (`isPhasePlaneImplicit`): gathers the phase planes the
    /// taps read, `[N][Ci][rows.phases][columns.phases][Ho][Wo]`, then one implicit pass with
    /// every tap pointed at its phase plane.
    static func stridedForward(_ g: Conv2dGeometry, on path: ConvolutionKernelPath, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                               _ y: UnsafeMutablePointer<Float>) {
        let rows = PhaseTaps(kernel: g.kernelH, stride: g.stride, padding: g.padding)
        let columns = PhaseTaps(kernel: g.kernelW, stride: g.stride, padding: g.padding)
        let hw = g.outPlane, planesPerChannel = rows.phases.count * columns.phases.count
        let phases = TensorStorage(uninitializedCount: g.batch * g.inChannels * planesPerChannel * hw)
        nonisolated(unsafe) let (source, gathered) = (x, phases.pointer)
        Parallel.forEachChunk(g.batch * g.inChannels, costPerItem: planesPerChannel * hw, minimumWork: 1 << 15) { planes in
            for plane in planes {
                ConvKernels.gatherPhases(source + plane * g.height * g.width, into: gathered + plane * planesPerChannel * hw,
                                         stride: g.stride, outHeight: g.outHeight, outWidth: g.outWidth,
                                         rowPhases: rows.phases, columnPhases: columns.phases)
            }
        }
        var d = descriptor(batch: g.batch, input: (g.inChannels, g.outHeight, g.outWidth), output: (g.outChannels, g.outHeight, g.outWidth),
                           rows: rows.taps.map(\.shift), columns: columns.taps.map(\.shift))
        d.in_channel_stride = planesPerChannel * hw
        d.in_image_stride = g.inChannels * d.in_channel_stride
        store((0..<g.kernelH).map { rows.slot($0) * columns.phases.count * hw }, in: &d.tap_row_plane)
        store((0..<g.kernelW).map { columns.slot($0) * hw }, in: &d.tap_col_plane)
        run(d, on: path, input: phases.pointer, weights: w, output: y)
        withExtendedLifetime(phases) {}
    }

    /// `dx[N, Ci, H, W]` (written, not accumulated) from `dy[N, Co, Ho, Wo]` for a strided `g`
    /// (`isPhasePlaneImplicit`): phase (a, b) of `dx` is
    /// `dP[a][b][ci][u][v] = Σ dy[co][u − ⌊(i − p)/s⌋][v − ⌊(j − p)/s⌋] · w[co][ci][i][j]` over the
    /// taps i of row phase a and j of column phase b — a stride-1 implicit convolution per phase
    /// into `[N][Ci][s][s][Ho][Wo]`, then the phases interleaved into `dx`.
    static func stridedInputGradient(_ g: Conv2dGeometry, on path: ConvolutionKernelPath, _ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                     _ dx: UnsafeMutablePointer<Float>) {
        let (s, Ci, Co, kh, kw, hw) = (g.stride, g.inChannels, g.outChannels, g.kernelH, g.kernelW, g.outPlane)
        let rows = PhaseTaps(kernel: kh, stride: s, padding: g.padding), columns = PhaseTaps(kernel: kw, stride: s, padding: g.padding)
        let phases = TensorStorage(uninitializedCount: g.batch * Ci * s * s * hw)
        for a in 0..<s { for b in 0..<s {
            let rowTaps = (0..<kh).filter { rows.taps[$0].phase == a }, columnTaps = (0..<kw).filter { columns.taps[$0].phase == b }
            let first = phases.pointer + (a * s + b) * hw
            guard !rowTaps.isEmpty, !columnTaps.isEmpty else {
                // No tap reads this phase: its input pixels get no gradient.
                for plane in 0..<(g.batch * Ci) { (first + plane * s * s * hw).update(repeating: 0, count: hw) }
                continue
            }
            // Weights [Ci][Co][rowTaps][columnTaps]: w[co][ci][i][j] transposed in channels.
            let taps = rowTaps.count * columnTaps.count
            let phaseWeights = TensorStorage(uninitializedCount: Ci * Co * taps)
            var q = phaseWeights.pointer
            for ci in 0..<Ci { for co in 0..<Co { for i in rowTaps { for j in columnTaps {
                q.pointee = w[((co * Ci + ci) * kh + i) * kw + j]; q += 1
            } } } }
            var d = descriptor(batch: g.batch, input: (Co, g.outHeight, g.outWidth), output: (Ci, g.outHeight, g.outWidth),
                               rows: rowTaps.map { -rows.taps[$0].shift }, columns: columnTaps.map { -columns.taps[$0].shift })
            d.out_channel_stride = s * s * hw
            d.out_image_stride = Ci * d.out_channel_stride
            run(d, on: path, input: dy, weights: phaseWeights.pointer, output: first)
        } }
        nonisolated(unsafe) let (merged, target) = (UnsafePointer(phases.pointer), dx)
        Parallel.forEachChunk(g.batch * Ci, costPerItem: s * s * hw, minimumWork: 1 << 15) { planes in
            for plane in planes {
                ConvKernels.mergePhases(merged + plane * s * s * hw, into: target + plane * g.height * g.width,
                                        stride: s, outHeight: g.outHeight, outWidth: g.outWidth)
            }
        }
        withExtendedLifetime(phases) {}
    }
}

extension ConvKernels {
    /// Gathers the phase planes `rowPhases × columnPhases` of a `[s·Ho, s·Wo]` plane into
    /// `[rowPhases.count][columnPhases.count][Ho][Wo]`: `out[r][c][y][x] = plane[s·y + rowPhases[r]][s·x + columnPhases[c]]`.
    /// Phases are distinct and ascending; all s² of them is `splitPhases`.
    static func gatherPhases(_ plane: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, stride s: Int, outHeight Ho: Int, outWidth Wo: Int,
                             rowPhases: [Int], columnPhases: [Int]) {
        if rowPhases.count == s && columnPhases.count == s {
            splitPhases(plane, into: out, stride: s, outHeight: Ho, outWidth: Wo)
            return
        }
        let W = s * Wo, hw = Ho * Wo
        for (r, a) in rowPhases.enumerated() {
            for y in 0..<Ho {
                let src = plane + (y * s + a) * W
                for (c, b) in columnPhases.enumerated() {
                    let dst = out + (r * columnPhases.count + c) * hw + y * Wo
                    var x = 0
                    if s == 2 {
                        // 16 consecutive inputs hold 8 outputs of each column phase.
                        while x + 8 <= Wo {
                            let v = UnsafeRawPointer(src + 2 * x).loadUnaligned(as: SIMD16<Float>.self)
                            UnsafeMutableRawPointer(dst + x).storeBytes(of: b == 0 ? v.evenHalf : v.oddHalf, as: SIMD8<Float>.self)
                            x += 8
                        }
                    }
                    while x < Wo { dst[x] = src[x * s + b]; x += 1 }
                }
            }
        }
    }
}
