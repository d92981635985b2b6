import Foundation

// Elementwise ops. Binary ops broadcast (NumPy rules); each forward sits beside its pullback.

extension Tensor {
    /// Applies `f` elementwise to two broadcast operands. Output shape: broadcast of both shapes.
    @inline(__always)
    static func zipMap(_ a: Tensor, _ b: Tensor, _ op: String, _ f: (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape {
            let out = Tensor.uninitialized(a.shape)
            let pa = a.pointer, pb = b.pointer, po = out.storage.pointer
            for i in 0..<a.count { po[i] = f(pa[i], pb[i]) }
            return out
        }
        let shape = Broadcast.shape(a.shape, b.shape, op)
        let out = Tensor.uninitialized(shape)
        let sa = Broadcast.strides(of: a.shape, in: shape), sb = Broadcast.strides(of: b.shape, in: shape)
        let pa = a.pointer, pb = b.pointer, po = out.storage.pointer
        Broadcast.forEachRun(shape, sa, sb) { o, ia, ib, n, da, db in
            if da == 1 && db == 1 { for j in 0..<n { po[o + j] = f(pa[ia + j], pb[ib + j]) } }
            else if da == 1 && db == 0 { let y = pb[ib]; for j in 0..<n { po[o + j] = f(pa[ia + j], y) } }
            else if da == 0 && db == 1 { let x = pa[ia]; for j in 0..<n { po[o + j] = f(x, pb[ib + j]) } }
            else { for j in 0..<n { po[o + j] = f(pa[ia + j * da], pb[ib + j * db]) } }
        }
        return out
    }

    /// Applies `f` to every element. Output shape: `shape`.
    @inline(__always)
    public func map(_ f: (Float) -> Float) -> Tensor {
        let out = Tensor.uninitialized(shape)
        let p = pointer, o = out.storage.pointer
        for i in 0..<count { o[i] = f(p[i]) }
        return out
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let out: Tensor
        if a.shape == b.shape {
            out = Tensor.uninitialized(a.shape)
            Vector.add(a.pointer, b.pointer, out.storage.pointer, a.count)
        } else {
            out = zipMap(a, b, "add", +)
        }
        let (sa, sb) = (a.shape, b.shape)
        return record("add", result: out, inputs: [a, b]) { g in [g.sum(toShape: sa), g.sum(toShape: sb)] }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let out = Tensor.zipMap(a, b, "sub", -)
        let (sa, sb) = (a.shape, b.shape)
        return record("sub", result: out, inputs: [a, b]) { g in [g.sum(toShape: sa), (-g).sum(toShape: sb)] }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let out = Tensor.zipMap(a, b, "mul", *)
        return record("mul", result: out, inputs: [a, b]) { g in
            [a.isTracked ? Tensor.zipMap(g, b, "mul", *).sum(toShape: a.shape) : nil,
             b.isTracked ? Tensor.zipMap(g, a, "mul", *).sum(toShape: b.shape) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let out = Tensor.zipMap(a, b, "div", /)
        return record("div", result: out, inputs: [a, b]) { g in
            [a.isTracked ? Tensor.zipMap(g, b, "div", /).sum(toShape: a.shape) : nil,
             b.isTracked ? Tensor.zipMap(Tensor.zipMap(g, out, "mul", *), b, "div", { -$0 / $1 }).sum(toShape: b.shape) : nil]
        }
    }

    public static prefix func - (a: Tensor) -> Tensor {
        record("neg", result: a.map { -$0 }, inputs: [a]) { g in [g.map { -$0 }] }
    }

    public static func + (a: Tensor, s: Float) -> Tensor { a + Tensor(s) }
    public static func - (a: Tensor, s: Float) -> Tensor { a - Tensor(s) }
    public static func * (a: Tensor, s: Float) -> Tensor { a * Tensor(s) }
    public static func / (a: Tensor, s: Float) -> Tensor { a / Tensor(s) }
    public static func + (s: Float, a: Tensor) -> Tensor { Tensor(s) + a }
    public static func - (s: Float, a: Tensor) -> Tensor { Tensor(s) - a }
    public static func * (s: Float, a: Tensor) -> Tensor { Tensor(s) * a }
    public static func / (s: Float, a: Tensor) -> Tensor { Tensor(s) / a }

    /// eˣ elementwise.
    public func exp() -> Tensor {
        let out = map { Foundation.exp($0) }
        return Tensor.record("exp", result: out, inputs: [self]) { g in [Tensor.zipMap(g, out, "exp", *)] }
    }

    /// Natural logarithm elementwise.
    public func log() -> Tensor {
        let x = self
        return Tensor.record("log", result: map { Foundation.log($0) }, inputs: [self]) { g in [Tensor.zipMap(g, x, "log", /)] }
    }

    /// √x elementwise.
    public func sqrt() -> Tensor {
        let out = map { $0.squareRoot() }
        return Tensor.record("sqrt", result: out, inputs: [self]) { g in [Tensor.zipMap(g, out, "sqrt") { $0 * 0.5 / $1 }] }
    }

    /// `self ^ exponent` elementwise with broadcasting.
    public func pow(_ exponent: Tensor) -> Tensor {
        let a = self, b = exponent
        let out = Tensor.zipMap(a, b, "pow") { Foundation.pow($0, $1) }
        return Tensor.record("pow", result: out, inputs: [a, b]) { g in
            [a.isTracked ? Tensor.zipMap(g, Tensor.zipMap(b, a, "pow") { $0 * Foundation.pow($1, $0 - 1) }, "pow", *).sum(toShape: a.shape) : nil,
             b.isTracked ? Tensor.zipMap(g, Tensor.zipMap(out, a, "pow") { $1 > 0 ? $0 * Foundation.log($1) : 0 }, "pow", *).sum(toShape: b.shape) : nil]
        }
    }

    /// `self ^ exponent` with a constant exponent.
    public func pow(_ exponent: Float) -> Tensor {
        let x = self
        let out = map { Foundation.pow($0, exponent) }
        return Tensor.record("pow", result: out, inputs: [self]) { g in
            [Tensor.zipMap(g, x, "pow") { $0 * exponent * Foundation.pow($1, exponent - 1) }]
        }
    }

    /// max(x, 0) elementwise.
    public func relu() -> Tensor {
        let out = Tensor.uninitialized(shape)
        Vector.relu(pointer, out.storage.pointer, count)
        return Tensor.record("relu", result: out, inputs: [self]) { g in
            let dx = Tensor.uninitialized(g.shape)
            Vector.reluBackward(g.pointer, out.pointer, dx.storage.pointer, g.count)
            return [dx]
        }
    }

    /// 1 / (1 + e⁻ˣ) elementwise.
    public func sigmoid() -> Tensor {
        let out = map { 1 / (1 + Foundation.exp(-$0)) }
        return Tensor.record("sigmoid", result: out, inputs: [self]) { g in [Tensor.zipMap(g, out, "sigmoid") { $0 * $1 * (1 - $1) }] }
    }

    /// tanh elementwise.
    public func tanh() -> Tensor {
        let out = map { Foundation.tanh($0) }
        return Tensor.record("tanh", result: out, inputs: [self]) { g in [Tensor.zipMap(g, out, "tanh") { $0 * (1 - $1 * $1) }] }
    }

    /// Clamps to `[min, max]`; the gradient passes where the input lies inside the closed range
    /// (PyTorch's convention).
    public func clamped(min lo: Float = -.infinity, max hi: Float = .infinity) -> Tensor {
        precondition(lo <= hi, "clamped: min \(lo) > max \(hi)")
        let x = self
        let out = map { Swift.min(Swift.max($0, lo), hi) }
        return Tensor.record("clamp", result: out, inputs: [self]) { g in
            [Tensor.zipMap(g, x, "clamp") { ($1 >= lo && $1 <= hi) ? $0 : 0 }]
        }
    }

    /// Replaces elements where `mask` is non-zero by `value`; gradient is zero there.
    /// - Parameter mask: same shape as `self` (or broadcastable to it), non-zero = replace.
    public func maskedFill(_ mask: Tensor, with value: Float) -> Tensor {
        let m = mask.detached()
        let out = Tensor.zipMap(self, m, "maskedFill") { $1 != 0 ? value : $0 }
        precondition(out.shape == shape, "maskedFill: mask \(mask.shape) must broadcast to \(shape)")
        return Tensor.record("maskedFill", result: out, inputs: [self]) { g in [Tensor.zipMap(g, m, "maskedFill") { $1 != 0 ? 0 : $0 }] }
    }
}
