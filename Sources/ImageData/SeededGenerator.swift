/// A small, fast, seedable random number generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random choice in `ImageData` flows from one of these, so the same seed gives the same
/// pixels on every machine. `Float` draws use the top 24 bits of a 64-bit output, so they do not
/// depend on the standard library's `random(in:using:)` implementation.
///
/// References: Blackman & Vigna, "Scrambled Linear Pseudorandom Number Generators", 2018.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// Creates a generator whose whole stream is determined by `seed`.
    public init(seed: UInt64) {
        var sm = seed
        s0 = SeededGenerator.splitMix(&sm); s1 = SeededGenerator.splitMix(&sm)
        s2 = SeededGenerator.splitMix(&sm); s3 = SeededGenerator.splitMix(&sm)
    }

    /// Creates a generator for one item of a larger seeded computation, e.g. `(seed, epoch, index)`.
    public init(seed: UInt64, streams: UInt64...) {
        var h = seed
        for s in streams { h = SeededGenerator.mix(h ^ SeededGenerator.mix(s &+ 0x9E37_79B9_7F4A_7C15)) }
        self.init(seed: h)
    }

    static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return mix(state)
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// A uniform `Float` in `[0, 1)`.
    public mutating func unit() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// A uniform `Float` in `[low, high)`.
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * unit() }

    /// A uniform integer in `0..<bound` (`bound > 0`), by Lemire's multiply-shift (tiny bias is fine here).
    public mutating func int(below bound: Int) -> Int {
        Int((UInt64(truncatingIfNeeded: next() >> 32) &* UInt64(bound)) >> 32)
    }

    /// `true` with probability `p`.
    public mutating func chance(_ p: Float) -> Bool { p > 0 && unit() < p }

    /// A standard normal draw (Box–Muller).
    public mutating func normal() -> Float {
        let u1 = max(unit(), 1e-7), u2 = unit()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
    }

    /// Shuffles `array` in place (Fisher–Yates with this generator's draws).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, int(below: i + 1))
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
