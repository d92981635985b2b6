@testable import TensorCore
import Testing
import TestSupport

/// Batch norm's AVX2 passes and streaming writes (`BatchNormPasses`) against the `Vector` loops
/// they replace: the same bits, on every remainder of the 16- and 8-value loops, misaligned
/// starts, and the values those loops' lanes and scalar tails treat differently (−0 before a ReLU,
/// NaN under a mask).
@Suite struct BatchNormPassesTests {
    static let avx2 = CPUFeatures.hasAVX2FMA
    static let lengths = Array(1...40) + [1024, 4099]

    /// `count` values in [−2, 2) with −0, +0 and NaN at fixed places.
    func values(_ count: Int, _ rng: inout SeededRNG, nan: Bool) -> [Float] {
        var v = (0..<count).map { _ in rng.uniform(-2, 2) }
        for i in stride(from: 3, to: count, by: 7) { v[i] = -0.0 }
        for i in stride(from: 5, to: count, by: 11) { v[i] = 0 }
        if nan { for i in stride(from: 9, to: count, by: 13) { v[i] = .nan } }
        return v
    }

    func bits(_ v: [Float]) -> [UInt32] { v.map(\.bitPattern) }

    /// `BACKDROP_STREAMING_MIN_BYTES` values: unset or empty is the default, whole numbers ≥ 0
    /// are taken, anything else is refused naming the variable.
    @Test func environmentValues() throws {
        #expect(try BatchNormPasses.minimumStreamingBytes(nil) == BatchNormPasses.defaultMinimumStreamingBytes)
        #expect(try BatchNormPasses.minimumStreamingBytes(" ") == BatchNormPasses.defaultMinimumStreamingBytes)
        #expect(try BatchNormPasses.minimumStreamingBytes("0") == 0)
        #expect(try BatchNormPasses.minimumStreamingBytes(" 1048576 ") == 1 << 20)
        for bad in ["-1", "4M", "1e6", "lots"] {
            #expect(throws: InvalidOption.self, "\(bad)") { try BatchNormPasses.minimumStreamingBytes(bad) }
            do { _ = try BatchNormPasses.minimumStreamingBytes(bad) } catch let error as InvalidOption {
                #expect(error.key == "BACKDROP_STREAMING_MIN_BYTES" && error.message.contains("whole number of bytes"))
            }
        }
    }

    @Test(.enabled(if: avx2, "this CPU has no AVX2 + FMA"))
    func sumsGiveTheVectorLoopsBits() {
        var rng = SeededRNG(seed: 91)
        for n in Self.lengths {
            for start in 0..<3 {
                let x = values(n + start, &rng, nan: false), g = values(n + start, &rng, nan: false)
                let m = rng.uniform(-0.5, 0.5)
                x.withUnsafeBufferPointer { xb in g.withUnsafeBufferPointer { gb in
                    let (xp, gp) = (xb.baseAddress! + start, gb.baseAddress! + start)
                    #expect(BatchNormPasses.sum(xp, n, avx2: true).bitPattern == Vector.sum(xp, n).bitPattern, "sum n \(n)")
                    #expect(BatchNormPasses.sumSquaredDeviation(xp, n, m, avx2: true).bitPattern
                            == Vector.sumSquaredDeviation(xp, n, m).bitPattern, "squared deviation n \(n)")
                    for relu: (a: Float, b: Float)? in [nil, (1.3, -0.2), (-0.7, 0.1)] {
                        let (s, d) = BatchNormPasses.sumAndCenteredDot(gp, xp, n, m, reluOf: relu, avx2: true)
                        let (vs, vd) = Vector.sumAndCenteredDot(gp, xp, n, m, reluOf: relu)
                        #expect(s.bitPattern == vs.bitPattern && d.bitPattern == vd.bitPattern, "centered dot n \(n) relu \(String(describing: relu))")
                    }
                } }
            }
        }
    }

    /// The three outputs of the forward pass and the input gradient, written with streaming
    /// stores from destinations 0–8 floats past a 32-byte boundary, give the `Vector` loops' bits.
    /// `b = −0` makes `x·a + b` exactly −0 where `x` is −0 (kept by the lanes, +0 in the tail);
    /// NaN inputs exercise the masks.
    @Test(.enabled(if: avx2, "this CPU has no AVX2 + FMA"))
    func streamingWritesGiveTheVectorLoopsBits() {
        var rng = SeededRNG(seed: 92)
        for n in Self.lengths {
            for start in [0, 1, 5, 8] {
                let x = values(n + start, &rng, nan: true), r = values(n + start, &rng, nan: false), g = values(n + start, &rng, nan: true)
                for (a, b) in [(Float(1.5), Float(-0.0)), (-0.8, 0.3)] {
                    x.withUnsafeBufferPointer { xb in r.withUnsafeBufferPointer { rb in g.withUnsafeBufferPointer { gb in
                        let (xp, rp, gp) = (xb.baseAddress!, rb.baseAddress!, gb.baseAddress!)
                        for output in [Tensor.NormalizedOutput.affine, .relu, .addReLU(rp)] {
                            var streamed = [Float](repeating: 7, count: n + start), plain = streamed
                            streamed.withUnsafeMutableBufferPointer { BatchNormPasses.write(output, xp, $0.baseAddress!, offset: start, n, a, b, streaming: true) }
                            BatchNormPasses.fence()
                            plain.withUnsafeMutableBufferPointer { BatchNormPasses.write(output, xp, $0.baseAddress!, offset: start, n, a, b, streaming: false) }
                            #expect(bits(streamed) == bits(plain), "\(output) n \(n) start \(start) a \(a)")
                        }
                        for relu: (a: Float, b: Float)? in [nil, (a, b)] {
                            func gradient(streaming: Bool) -> [Float] {
                                var dx = [Float](repeating: 7, count: n + start)
                                dx.withUnsafeMutableBufferPointer {
                                    BatchNormPasses.inputGradient(gp + start, xp + start, $0.baseAddress! + start, n, k: 0.37, M: Float(n), s: 0.21,
                                                                  m: -0.13, c: 0.58, reluOf: relu, streaming: streaming)
                                }
                                BatchNormPasses.fence()
                                return dx
                            }
                            let (streamed, plain) = (gradient(streaming: true), gradient(streaming: false))
                            #expect(bits(streamed) == bits(plain), "input gradient n \(n) start \(start) relu \(String(describing: relu))")
                        }
                        var streamed = [Float](repeating: 7, count: n + start), plain = streamed
                        streamed.withUnsafeMutableBufferPointer { BatchNormPasses.reluBackward(gp + start, xp + start, $0.baseAddress! + start, n, streaming: true) }
                        plain.withUnsafeMutableBufferPointer { BatchNormPasses.reluBackward(gp + start, xp + start, $0.baseAddress! + start, n, streaming: false) }
                        #expect(bits(streamed) == bits(plain), "ReLU gradient n \(n) start \(start)")
                    } } }
                }
            }
        }
    }

    /// Whole operations under both settings — `Vector`'s loops and no streaming, the AVX2 passes
    /// with every output streamed (the implicit convolutions' too, each pass of a stride-1 one with
    /// 16-wide rows, whose forward and input gradient read the input directly, and a stride-2 one,
    /// whose input gradient goes through the phases) — give the same bits:
    /// batch norm forward and backward with each output (called directly and through the recorded
    /// `batchNorm` / `batchNormReLU`), and eval-mode `channelAffineReLU`.
    @Test(.enabled(if: avx2, "this CPU has no AVX2 + FMA"), arguments: ["affine", "relu", "residual"])
    func operationsGiveTheSameBitsStreamedOrNot(_ mode: String) {
        var rng = SeededRNG(seed: 93)
        let x = rng.tensor([3, 16, 8, 16], -1, 1), w = rng.tensor([16, 16, 3, 3], -0.3, 0.3)
        let gamma = rng.tensor([16], 0.5, 1.5), beta = rng.tensor([16]), residual = rng.tensor([3, 16, 8, 16])
        let dy = rng.tensor([3, 16, 8, 16]), scale = rng.tensor([16]), shift = rng.tensor([16])
        let strided = Conv2dGeometry(batch: 2, inChannels: 16, height: 16, width: 16, outChannels: 16, kernelH: 3, kernelW: 3, stride: 2, padding: 1)
        let (x2, dy2) = (rng.tensor([2, 16, 16, 16]), rng.tensor([2, 16, 8, 8]))
        func run(_ settings: BatchNormPasses.Settings) -> [[UInt32]] {
            BatchNormPasses.withSettings(settings) {
                let g = Conv2dGeometry(batch: 3, inChannels: 16, height: 8, width: 16, outChannels: 16, kernelH: 3, kernelW: 3, stride: 1, padding: 1)
                let convolutions = ConvolutionPass.allCases.flatMap {
                    [Tensor.conv2dPass($0, g, x: x, weight: w, dy: dy), Tensor.conv2dPass($0, strided, x: x2, weight: w, dy: dy2)]
                }
                let z = Tensor.conv2d(x, weight: w, padding: 1)
                let output: Tensor.NormalizedOutput = mode == "affine" ? .affine : mode == "relu" ? .relu : .addReLU(residual.pointer)
                let (y, stats, affine) = withExtendedLifetime(residual) {
                    Tensor.normalize(z, gamma: gamma, beta: beta, eps: 1e-5, operation: "test", output: output)
                }
                let grads = Tensor.batchNormBackward(x: z, gamma: gamma, dy: dy, stats: stats, eps: 1e-5, reluOf: mode == "relu" ? affine : nil)
                let eval = Tensor.channelAffineReLU(z, scale: scale, shift: shift, adding: mode == "residual" ? residual : nil)
                // The recorded op's backward (with a residual: its masked gradient, streamed too).
                let (xt, rt) = (z.trackedLeaf(), residual.trackedLeaf())
                let fused = mode == "affine" ? Tensor.batchNorm(xt, gamma: gamma, beta: beta, eps: 1e-5).0
                    : Tensor.batchNormReLU(xt, gamma: gamma, beta: beta, eps: 1e-5, adding: mode == "residual" ? rt : nil).0
                let recorded = (fused * dy).sum().gradients(for: [xt, rt])
                let tensors = [z, y, grads[0]!, grads[1]!, grads[2]!, eval, fused, recorded[xt]!] + (mode == "residual" ? [recorded[rt]!] : [])
                return (tensors + convolutions).map { bits($0.scalars) } + [bits(stats.mean), bits(stats.variance)]
            }
        }
        let plain = run(.init(avx2: false, minimumStreamingBytes: .max)), streamed = run(.init(avx2: true, minimumStreamingBytes: 0))
        #expect(plain == streamed, "\(mode)")
    }
}
