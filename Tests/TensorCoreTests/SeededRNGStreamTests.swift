import Foundation
import Testing
import TensorCore

/// The stream-derived generators and draws that the data pipeline uses, and the Gaussian.
@Suite struct SeededRNGStreamTests {
    /// Values of the generator that produced every built-in dataset so far (the former ImageData
    /// generator). If these change, the built-in scenes and augmentations change: bump
    /// `SceneManifest.generator` so cached datasets are not reused.
    @Test func streamsThatMakeDatasetsArePinned() {
        var rng = SeededRNG(seed: 42, streams: 1, 2, 3)
        #expect((0..<3).map { _ in rng.next() } == [5168461739604266424, 5122666449004179444, 17466911164454264226])
        #expect(rng.unit() == 0.28821743)
        #expect(rng.int(below: 1000) == 597)
        #expect(rng.uniform(-1, 1) == 0.3660785)
        var shuffler = SeededRNG(seed: 42, streams: 1, 2, 3)
        var order = Array(0..<10)
        shuffler.shuffle(&order)
        #expect(order == [4, 6, 1, 0, 5, 3, 8, 7, 9, 2])
    }

    @Test func streamsAreDeterministicAndDistinct() {
        func head(_ r: SeededRNG) -> [UInt64] { var r = r; return (0..<8).map { _ in r.next() } }
        #expect(head(SeededRNG(seed: 9, streams: 4, 5)) == head(SeededRNG(seed: 9, streams: 4, 5)))
        #expect(SeededRNG(seed: 9, streams: 4, 5) == SeededRNG(seed: 9, streams: 4, 5))
        #expect(SeededRNG(seed: 9, streams: 4, 5) != SeededRNG(seed: 9, streams: 5, 4))   // order matters
        #expect(SeededRNG(seed: 9, streams: 4) != SeededRNG(seed: 9, streams: 4, 0))      // length matters
        #expect(SeededRNG(seed: 9, streams: 4) != SeededRNG(seed: 10, streams: 4))
        #expect(SeededRNG(seed: 9, streams: 4) != SeededRNG(seed: 9))
        // Neighbouring items of one epoch share no leading outputs.
        let heads = (0..<64).map { head(SeededRNG(seed: 1, streams: 0, UInt64($0))) }
        #expect(Set(heads.flatMap { $0 }).count == 64 * 8)
    }

    @Test func integerAndBernoulliDraws() {
        var rng = SeededRNG(seed: 5, streams: 7)
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<50_000 { counts[rng.int(below: 10)] += 1 }
        // χ² with 9 degrees of freedom; 27.9 is its 0.999 quantile.
        let chi2 = counts.reduce(0.0) { $0 + pow(Double($1) - 5_000, 2) / 5_000 }
        #expect(chi2 < 27.9, "\(counts)")
        let zeros = (0..<1_000).map { _ in rng.int(below: 1) }
        #expect(zeros.allSatisfy { $0 == 0 })
        let before = rng
        let never = rng.chance(0)
        #expect(!never && rng == before)   // p = 0 draws nothing
        let hits = (0..<50_000).filter { _ in rng.chance(0.3) }.count
        #expect(abs(Double(hits) / 50_000 - 0.3) < 0.01)
        let u = (0..<10_000).map { _ in rng.uniform(2, 5) }
        #expect(u.allSatisfy { $0 >= 2 && $0 < 5 })
    }

    @Test func shuffleIsADeterministicPermutation() {
        var a = SeededRNG(seed: 3), b = SeededRNG(seed: 3), c = SeededRNG(seed: 4)
        var x = Array(0..<100), y = x, z = x
        a.shuffle(&x); b.shuffle(&y); c.shuffle(&z)
        #expect(x == y && x != z)
        #expect(x.sorted() == Array(0..<100) && x != Array(0..<100))
        var single = [7]
        a.shuffle(&single)
        #expect(single == [7])
    }

    /// Box–Muller on 53-bit uniforms: the first four moments and the 3σ tail of N(0, 1).
    @Test func gaussianMoments() {
        var rng = SeededRNG(seed: 11)
        let n = 200_000
        let xs = (0..<n).map { _ in Double(rng.normal()) }
        let mean = xs.reduce(0, +) / Double(n)
        func moment(_ k: Double) -> Double { xs.reduce(0) { $0 + pow($1 - mean, k) } / Double(n) }
        let variance = moment(2)
        #expect(abs(mean) < 0.01)
        #expect(abs(variance - 1) < 0.015)
        #expect(abs(moment(3) / pow(variance, 1.5)) < 0.03)
        #expect(abs(moment(4) / (variance * variance) - 3) < 0.06)
        let tail = Double(xs.filter { abs($0) > 3 }.count) / Double(n)
        #expect(abs(tail - 0.0027) < 0.0006)
        #expect(xs.allSatisfy { $0.isFinite })
    }
}
