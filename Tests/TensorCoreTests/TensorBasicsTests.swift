import Foundation
import Testing
import TensorCore
import TestSupport

@Suite struct TensorBasicsTests {
    @Test func shapesAndConstructors() {
        let s = Tensor(3)
        #expect(s.shape == [] && s.count == 1 && s.item == 3 && s.rank == 0)
        #expect(Tensor.zeros([2, 3]).scalars == [Float](repeating: 0, count: 6))
        #expect(Tensor.ones([4]).scalars == [1, 1, 1, 1])
        #expect(Tensor(repeating: 2.5, shape: [2, 2]).scalars == [2.5, 2.5, 2.5, 2.5])
        #expect(Tensor.zeros([2, 0, 3]).count == 0)
        #expect(Tensor.strides([2, 3, 4]) == [12, 4, 1])
        #expect(Tensor.strides([]) == [])
        #expect(Tensor.zeros([2, 3, 4]).normalizedAxis(-1, "test") == 2)
    }

    @Test func withMutableStorageCopiesSharedStorage() {
        let original = Tensor(shape: [3], [1, 2, 3])
        var copy = original
        copy.withMutableStorage { $0[0] = 100 }
        #expect(original.scalars == [1, 2, 3])
        #expect(copy.scalars == [100, 2, 3])
        #expect(original.storage !== copy.storage)

        // A reshaped view shares storage too; mutating it must not leak into the source.
        var view = original.reshaped([1, 3])
        view.withMutableStorage { b in for i in 0..<b.count { b[i] = -b[i] } }
        #expect(original.scalars == [1, 2, 3] && view.scalars == [-1, -2, -3])

        // A uniquely referenced tensor is mutated in place.
        var unique = Tensor(shape: [2], [5, 6])
        let before = unique.storage.pointer
        unique.withMutableStorage { $0[1] = 7 }
        #expect(unique.storage.pointer == before && unique.scalars == [5, 7])
    }

    @Test func withMutableStorageDropsTracking() {
        var x = Tensor(shape: [2], [1, 2]).trackedLeaf()
        let leaf = x
        x.withMutableStorage { $0[0] = 9 }
        #expect(!x.isTracked)
        #expect(leaf.isTracked && leaf.scalars == [1, 2])
    }

    @Test func gradientAccumulationDoesNotAliasUserTensors() {
        // The seed and intermediate gradients share storage; accumulation must copy first.
        let x = Tensor(shape: [2], [1, 2]).trackedLeaf()
        let seed = Tensor(shape: [2], [1, 1])
        let y = x + x
        let g = y.gradients(for: [x], seed: seed)[x]!
        #expect(g.scalars == [2, 2])
        #expect(seed.scalars == [1, 1])
    }

    @Test(arguments: [([2, 3], [3]), ([2, 3], [2, 1]), ([2, 3], [1, 3]), ([2, 3], []), ([2, 3, 4], [3, 1]),
                      ([2, 3, 4], [2, 1, 4]), ([2, 3], [2, 3]), ([1, 2, 3], [2, 3]), ([4, 1, 5], [1, 1, 1])])
    func sumToShape(_ from: [Int], _ to: [Int]) {
        var rng = SeededRNG(seed: 70)
        let x = rng.tensor(from)
        let y = x.sum(toShape: to)
        #expect(y.shape == to)
        // Reference: Σ over broadcast axes via the keepDims sum, then drop the leading axes.
        let off = from.count - to.count
        var axes = Array(0..<off)
        for (i, e) in to.enumerated() where e == 1 && from[i + off] != 1 { axes.append(i + off) }
        let expected = x.sum(axes: axes, keepDims: true).reshaped(to)
        expectClose(y, expected, "\(from) → \(to)")
        // Adjointness: ⟨sum(toShape:) g, v⟩ = ⟨g, broadcast(v)⟩.
        let v = rng.tensor(to)
        let lhs = (y * v).sum().item, rhs = (x * v.broadcast(to: from)).sum().item
        #expect(abs(lhs - rhs) < 1e-4)
    }

    @Test func sumToShapeHandValues() {
        let g = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
        #expect(g.sum(toShape: [3]).scalars == [5, 7, 9])
        #expect(g.sum(toShape: [2, 1]).scalars == [6, 15])
        #expect(g.sum(toShape: []).scalars == [21])
        #expect(g.sum(toShape: [1, 1]).scalars == [21])
    }
}

@Suite struct SeededRNGTests {
    @Test func sameSeedSameSequence() {
        var a = SeededRNG(seed: 1234), b = SeededRNG(seed: 1234), c = SeededRNG(seed: 1235)
        let sa = (0..<100).map { _ in a.next() }, sb = (0..<100).map { _ in b.next() }
        #expect(sa == sb)
        #expect(sa != (0..<100).map { _ in c.next() })
        #expect(a == b)
        var r1 = SeededRNG(seed: 9), r2 = SeededRNG(seed: 9)
        #expect(Tensor.normal([50], rng: &r1).scalars == Tensor.normal([50], rng: &r2).scalars)
        #expect(Tensor.uniform([50], low: -2, high: 3, rng: &r1).scalars == Tensor.uniform([50], low: -2, high: 3, rng: &r2).scalars)
    }

    /// xoshiro256** seeded by SplitMix64, values from the reference algorithm (Vigna's C code,
    /// transcribed): the first SplitMix64 output for seed 0 is 0xE220A8397B1DCDAF.
    @Test func matchesReferenceXoshiro256StarStar() {
        var r0 = SeededRNG(seed: 0)
        #expect(r0.state.0 == 0xE220_A839_7B1D_CDAF && r0.state.1 == 0x6E78_9E6A_A1B9_65F4)
        #expect(r0.state.2 == 0x06C4_5D18_8009_454F && r0.state.3 == 0xF88B_B8A8_724C_81EC)
        #expect((0..<4).map { _ in r0.next() } == [11091344671253066420, 13793997310169335082, 1900383378846508768, 7684712102626143532])
        var r42 = SeededRNG(seed: 42)
        #expect((0..<4).map { _ in r42.next() } == [1546998764402558742, 6990951692964543102, 12544586762248559009, 17057574109182124193])
    }

    @Test func codableRoundTripContinuesTheSequence() throws {
        var rng = SeededRNG(seed: 77)
        for _ in 0..<10 { _ = rng.next() }
        let data = try JSONEncoder().encode(rng)
        var restored = try JSONDecoder().decode(SeededRNG.self, from: data)
        #expect(restored == rng)
        #expect((0..<20).map { _ in restored.next() } == (0..<20).map { _ in rng.next() })
        let bad = Data(#"{"state":[1,2,3]}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(SeededRNG.self, from: bad) }
    }

    @Test func splitStreamsDiffer() {
        var base = SeededRNG(seed: 5)
        var copy = base
        var s1 = base.split(stream: 1)
        var s2 = copy.split(stream: 2)
        #expect(s1 != s2)
        #expect((0..<8).map { _ in s1.next() } != (0..<8).map { _ in s2.next() })
    }

    @Test func distributionsLookRight() {
        var rng = SeededRNG(seed: 3)
        let u = Tensor.uniform([20_000], low: -1, high: 3, rng: &rng).scalars
        #expect(u.allSatisfy { $0 >= -1 && $0 < 3 })
        let um = u.reduce(0, +) / Float(u.count)
        #expect(abs(um - 1) < 0.05)
        let n = Tensor.normal([20_000], mean: 2, std: 0.5, rng: &rng).scalars
        let mean = n.reduce(0, +) / Float(n.count)
        let variance = n.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(n.count)
        #expect(abs(mean - 2) < 0.02)
        #expect(abs(variance.squareRoot() - 0.5) < 0.02)
        // Every output bit is used roughly half of the time (catches biased scramblers).
        var ones = [Int](repeating: 0, count: 64)
        for _ in 0..<4096 { let v = rng.next(); for b in 0..<64 where v & (1 << UInt64(b)) != 0 { ones[b] += 1 } }
        #expect(ones.allSatisfy { abs($0 - 2048) < 200 }, "bit frequencies \(ones)")
    }
}
