/// One of the three products of a convolution layer's training step, run on its own (benchmarks
/// time them pass by pass against SGEMM on the same shapes).
public enum ConvolutionPass: String, CaseIterable, Sendable, Codable {
    case forward
    case inputGradient = "input-gradient"
    case weightGradient = "weight-gradient"

    /// The GEMM of the same size as this pass of `g` over `columns` output pixels (what an im2col
    /// implementation multiplies): `(m, n, k)` with `C[m, n] = A[m, k] · B[k, n]`.
    /// - forward: `Y[Co, P] = W[Co, Ci·kh·kw] · col[Ci·kh·kw, P]`
    /// - input gradient: `dcol[Ci·kh·kw, P] = Wᵀ · dY[Co, P]`, counted as its transpose-free twin
    ///   `dX[Ci, P] = W'[Ci, Co·kh·kw] · dcol'[Co·kh·kw, P]` (the same multiply-adds)
    /// - weight gradient: `dW[Co, Ci·kh·kw] = dY[Co, P] · colᵀ[P, Ci·kh·kw]`
    public func gemmShape(_ g: Conv2dGeometry, columns: Int) -> (m: Int, n: Int, k: Int) {
        switch self {
        case .forward: (g.outChannels, columns, g.patchSize)
        case .inputGradient: (g.inChannels, columns, g.outChannels * g.kernelH * g.kernelW)
        case .weightGradient: (g.outChannels, g.patchSize, columns)
        }
    }

    /// The kernels that run this pass of `g` on `path`: the path's implicit kernels
    /// (`avx512-implicit`, `avx2-implicit`) when they take the shape, else `im2col-openblas`.
    public func kernels(_ g: Conv2dGeometry, on path: ConvolutionKernelPath) -> String {
        let implicit = switch self {
        case .forward: ImplicitConvolution.handlesForward(g, on: path)
        case .inputGradient: ImplicitConvolution.handlesInputGradient(g, on: path)
        case .weightGradient: ImplicitConvolution.handlesWeightGradient(g, on: path)
        }
        return implicit ? path.provenanceName : ConvolutionKernelPath.blas.provenanceName
    }

    /// Floating-point operations of this pass of `g` (2 per multiply-add), all images.
    public func flops(_ g: Conv2dGeometry) -> Double {
        2 * Double(g.batch) * Double(g.outPlane) * Double(g.outChannels) * Double(g.patchSize)
    }
}

extension Conv2dGeometry {
    public init(batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int) {
        self.init(batch: batch, inChannels: inChannels, height: height, width: width, outChannels: outChannels,
                  kernelH: kernel, kernelW: kernel, stride: stride, padding: padding)
    }
}

extension Tensor {
    /// Runs `pass` of the convolution `g` untracked, on the kernels `conv2d` picks here
    /// (`ConvolutionKernelPath.current`): `x` `[N, Ci, H, W]`, `weight` `[Co, Ci, kh, kw]`, `dy`
    /// `[N, Co, Ho, Wo]` (read by the gradient passes). Returns `y`, `dx` or `dW`.
    public static func conv2dPass(_ pass: ConvolutionPass, _ g: Conv2dGeometry, x: Tensor, weight: Tensor, dy: Tensor) -> Tensor {
        precondition(x.shape == [g.batch, g.inChannels, g.height, g.width], "conv2dPass: x \(x.shape) does not match \(g)")
        precondition(weight.shape == [g.outChannels, g.inChannels, g.kernelH, g.kernelW], "conv2dPass: weight \(weight.shape) does not match \(g)")
        precondition(dy.shape == [g.batch, g.outChannels, g.outHeight, g.outWidth], "conv2dPass: dy \(dy.shape) does not match \(g)")
        switch pass {
        case .forward:
            let y = Tensor.uninitialized([g.batch, g.outChannels, g.outHeight, g.outWidth])
            conv2dForward(g, x.pointer, weight.pointer, nil, y.storage.pointer)
            return y
        case .inputGradient:
            return conv2dBackward(g, x: x, weight: weight, dy: dy, needInput: true, needWeight: false).0!
        case .weightGradient:
            return conv2dBackward(g, x: x, weight: weight, dy: dy, needInput: false, needWeight: true).1!
        }
    }
}
