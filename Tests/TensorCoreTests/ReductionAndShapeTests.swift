import Testing
import TensorCore
import TestSupport

struct ReductionCase: Sendable, CustomTestStringConvertible {
    let shape: [Int], axes: [Int]?, keepDims: Bool
    var testDescription: String { "\(shape) axes \(axes.map { "\($0)" } ?? "all")\(keepDims ? " keepDims" : "")" }
}

let reductionCases: [ReductionCase] = [[Int]?.none, [0], [1], [-1], [0, 2], [2, 0], [0, 1, 2], []].flatMap { axes in
    [false, true].map { ReductionCase(shape: [2, 3, 4], axes: axes, keepDims: $0) }
} + [ReductionCase(shape: [5], axes: nil, keepDims: false), ReductionCase(shape: [], axes: nil, keepDims: false),
     ReductionCase(shape: [2, 1, 3], axes: [1], keepDims: false)]

/// Naive sum over `axes` (by multi-index) of a row-major tensor.
func naiveSum(_ x: Tensor, axes: [Int], keepDims: Bool) -> Tensor {
    let r = x.rank
    let set = Set(axes.map { $0 < 0 ? $0 + r : $0 })
    var keep = x.shape
    for a in set { keep[a] = 1 }
    var out = [Double](repeating: 0, count: keep.reduce(1, *))
    let v = x.scalars
    var idx = [Int](repeating: 0, count: r)
    for i in 0..<x.count {
        var k = 0
        for d in 0..<r { k = k * keep[d] + (set.contains(d) ? 0 : idx[d]) }
        out[k] += Double(v[i])
        var d = r - 1
        while d >= 0 { idx[d] += 1; if idx[d] < x.shape[d] { break }; idx[d] = 0; d -= 1 }
    }
    let shape = keepDims ? keep : (0..<r).filter { !set.contains($0) }.map { x.shape[$0] }
    return Tensor(shape: shape, out.map { Float($0) })
}

@Suite struct ReductionTests {
    @Test(arguments: reductionCases)
    func sumAndMean(_ c: ReductionCase) {
        var rng = SeededRNG(seed: 11)
        let x = rng.tensor(c.shape)
        let axes = c.axes ?? Array(0..<c.shape.count)
        let expected = naiveSum(x, axes: axes, keepDims: c.keepDims)
        expectClose(x.sum(axes: c.axes, keepDims: c.keepDims), expected, "sum")
        let n = Float(axes.map { c.shape[$0 < 0 ? $0 + c.shape.count : $0] }.reduce(1, *))
        expectClose(x.mean(axes: c.axes, keepDims: c.keepDims), expected.map { $0 / n }, "mean")
        expectGradient([x], "sum \(c.testDescription)") { $0[0].sum(axes: c.axes, keepDims: c.keepDims) }
        expectGradient([x], "mean \(c.testDescription)") { $0[0].mean(axes: c.axes, keepDims: c.keepDims) }
    }

    @Test func sumHandValues() {
        let x = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
        #expect(x.sum().scalars == [21] && x.sum().shape == [])
        #expect(x.sum(axis: 0).scalars == [5, 7, 9] && x.sum(axis: 0).shape == [3])
        #expect(x.sum(axis: 1, keepDims: true).scalars == [6, 15] && x.sum(axis: 1, keepDims: true).shape == [2, 1])
        #expect(x.mean(axis: -1).scalars == [2, 5])
        #expect(x.mean().item == 3.5)
    }

    @Test(arguments: [0, 1, 2, -1])
    func maxAlongAxis(_ axis: Int) {
        var rng = SeededRNG(seed: 12)
        let x = rng.distinctTensor([3, 4, 2])
        let a = axis < 0 ? axis + 3 : axis
        // Reference: max by the naive route of slicing every index along the axis.
        let slices = (0..<x.shape[a]).map { x.slice(axis: a, $0..<($0 + 1)) }
        var best = slices[0].scalars
        for s in slices.dropFirst() { best = zip(best, s.scalars).map { max($0, $1) } }
        var keep = x.shape; keep[a] = 1
        #expect(x.max(axis: axis, keepDims: true).shape == keep)
        #expect(x.max(axis: axis, keepDims: true).scalars == best)
        #expect(x.max(axis: axis).shape == x.shape.enumerated().filter { $0.offset != a }.map(\.element))
        #expect(x.max(axis: axis).scalars == best)
        expectGradient([x], "max axis \(axis)") { $0[0].max(axis: axis) }
        expectGradient([x], "max axis \(axis) keepDims") { $0[0].max(axis: axis, keepDims: true) }
    }

    @Test func maxTiesRouteToFirstAndArgmax() {
        let x = Tensor(shape: [2, 3], [1, 5, 5, 7, 2, 7]).trackedLeaf()
        #expect(x.argmax(axis: 1) == [1, 0])
        #expect(x.argmax(axis: 0) == [1, 0, 1])
        let g = x.max(axis: 1).sum().gradients(for: [x])[x]!
        #expect(g.scalars == [0, 1, 0, 1, 0, 0])
    }
}

@Suite struct ShapeOpTests {
    @Test func reshapedKeepsOrderAndInfers() {
        let x = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
        let y = x.reshaped([3, -1])
        #expect(y.shape == [3, 2] && y.scalars == x.scalars)
        #expect(x.reshaped([6]).shape == [6])
        #expect(Tensor(shape: [1], [4]).reshaped([]).shape == [])
        var rng = SeededRNG(seed: 13)
        expectGradient([rng.tensor([2, 3, 2])], "reshape") { $0[0].reshaped([4, 3]) * Tensor(shape: [3], [1, -2, 3]) }
    }

    @Test(arguments: [[0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0], [0, 2, 1]])
    func permuted(_ order: [Int]) {
        var rng = SeededRNG(seed: 14)
        let shape = [2, 3, 4]
        let x = rng.tensor(shape)
        let y = x.permuted(order)
        #expect(y.shape == order.map { shape[$0] })
        let xv = x.scalars, yv = y.scalars
        var ok = true
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
            let src = [i, j, k]
            let dst = order.map { src[$0] }
            let yi = (dst[0] * y.shape[1] + dst[1]) * y.shape[2] + dst[2]
            if yv[yi] != xv[(i * 3 + j) * 4 + k] { ok = false }
        } } }
        #expect(ok, "permuted \(order) moved elements to the wrong place")
        expectGradient([x], "permute \(order)") { $0[0].permuted(order) }
    }

    @Test func transposedSwapsLastTwoByDefault() {
        let x = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
        #expect(x.transposed().shape == [3, 2])
        #expect(x.transposed().scalars == [1, 4, 2, 5, 3, 6])
        var rng = SeededRNG(seed: 15)
        let y = rng.tensor([2, 3, 4])
        #expect(y.transposed(0, 2).shape == [4, 3, 2])
        expectGradient([y], "transposed") { $0[0].transposed() }
        expectGradient([y], "transposed(0, 2)") { $0[0].transposed(0, 2) }
    }

    @Test(arguments: [(0, 1..<3), (1, 0..<2), (2, 3..<4), (-1, 1..<3), (1, 1..<1)])
    func slice(_ axis: Int, _ range: Range<Int>) {
        var rng = SeededRNG(seed: 16)
        let x = rng.tensor([3, 3, 4])
        let y = x.slice(axis: axis, range)
        let a = axis < 0 ? axis + 3 : axis
        var shape = x.shape; shape[a] = range.count
        #expect(y.shape == shape)
        // Reference: indexSelect with the same indices (independent copy loop) and naive indexing.
        #expect(y.scalars == x.indexSelect(axis: axis, Array(range)).scalars)
        if a == 2, let lo = range.first {
            let v = x.scalars
            #expect(y.scalars.first == v[lo])
        }
        expectGradient([x], "slice \(axis) \(range)") { $0[0].slice(axis: axis, range) }
    }

    @Test func sliceHandValues() {
        let x = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
        #expect(x.slice(axis: 1, 1..<3).scalars == [2, 3, 5, 6])
        #expect(x.slice(axis: 0, 1..<2).scalars == [4, 5, 6])
    }

    @Test(arguments: [0, 1, 2])
    func concatAndSplit(_ axis: Int) {
        var rng = SeededRNG(seed: 17)
        var s1 = [2, 3, 2], s2 = s1, s3 = s1
        s1[axis] = 1; s2[axis] = 2; s3[axis] = 3
        let parts = [rng.tensor(s1), rng.tensor(s2), rng.tensor(s3)]
        let joined = Tensor.concat(parts, axis: axis)
        var expected = s1; expected[axis] = 6
        #expect(joined.shape == expected)
        let back = joined.split(axis: axis, sizes: [1, 2, 3])
        for (p, b) in zip(parts, back) { #expect(p.shape == b.shape && p.scalars == b.scalars) }
        expectGradient(parts, "concat axis \(axis)") { Tensor.concat($0, axis: axis) }
        expectGradient([joined], "split axis \(axis)") { x in
            let pieces = x[0].split(axis: axis, sizes: [3, 1, 2])
            // Weight the pieces differently so a mix-up of gradients would show.
            return pieces[0].sum() * 1 + pieces[1].sum() * -2 + (pieces[2] * pieces[2]).sum()
        }
    }

    @Test func concatHandValues() {
        let a = Tensor(shape: [2, 1], [1, 2]), b = Tensor(shape: [2, 2], [3, 4, 5, 6])
        #expect(Tensor.concat([a, b], axis: 1).scalars == [1, 3, 4, 2, 5, 6])
        #expect(Tensor.concat([b, b], axis: 0).scalars == [3, 4, 5, 6, 3, 4, 5, 6])
        #expect(Tensor.concat([a, b], axis: -1).shape == [2, 3])
    }

    @Test func concatWithUntrackedPart() {
        let a = Tensor(shape: [2], [1, 2]).trackedLeaf(), b = Tensor(shape: [1], [3])
        let y = (Tensor.concat([a, b], axis: 0) * Tensor(shape: [3], [4, 5, 6])).sum()
        #expect(y.gradients(for: [a])[a]!.scalars == [4, 5])
    }

    @Test(arguments: [0, 1, -1])
    func indexSelectWithRepeats(_ axis: Int) {
        var rng = SeededRNG(seed: 18)
        let x = rng.tensor([3, 4])
        let indices = [2, 0, 2, 2, 1]
        let y = x.indexSelect(axis: axis, indices)
        let a = axis < 0 ? axis + 2 : axis
        let v = x.scalars, yv = y.scalars
        if a == 0 {
            #expect(y.shape == [5, 4])
            #expect(yv == indices.flatMap { i in (0..<4).map { v[i * 4 + $0] } })
        } else {
            #expect(y.shape == [3, 5])
            #expect(yv == (0..<3).flatMap { r in indices.map { v[r * 4 + $0] } })
        }
        expectGradient([x], "indexSelect axis \(axis)") { $0[0].indexSelect(axis: axis, indices) }
        // Repeats add up: index 2 appears three times.
        let leaf = x.trackedLeaf()
        let g = leaf.indexSelect(axis: 0, indices).sum().gradients(for: [leaf])[leaf]!
        #expect(g.scalars == [1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3])
    }

    @Test func gatherForwardAndGradient() {
        let x = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
        let g1 = x.gather(axis: 1, indices: [2, 0, 0, 1, 1, 1], indexShape: [2, 3])
        #expect(g1.scalars == [3, 1, 1, 5, 5, 5])
        let g0 = x.gather(axis: 0, indices: [1, 0, 1], indexShape: [1, 3])
        #expect(g0.shape == [1, 3] && g0.scalars == [4, 2, 6])
        var rng = SeededRNG(seed: 19)
        let y = rng.tensor([2, 3, 4])
        let idx = (0..<(2 * 5 * 4)).map { _ in Int(rng.next() % 3) }
        expectGradient([y], "gather axis 1") { $0[0].gather(axis: 1, indices: idx, indexShape: [2, 5, 4]) }
        let idx2 = (0..<(2 * 3 * 2)).map { _ in Int(rng.next() % 4) }
        expectGradient([y], "gather axis -1") { $0[0].gather(axis: -1, indices: idx2, indexShape: [2, 3, 2]) }
        let leaf = x.trackedLeaf()
        let grad = leaf.gather(axis: 1, indices: [2, 0, 0, 1, 1, 1], indexShape: [2, 3]).sum().gradients(for: [leaf])[leaf]!
        #expect(grad.scalars == [2, 0, 1, 0, 3, 0])
    }
}
