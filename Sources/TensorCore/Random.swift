import Foundation

/// The one seeded pseudo-random generator of Backdrop: xoshiro256** seeded by SplitMix64.
///
/// Every random choice — weight initialisation, data shuffles, augmentation draws, the built-in
/// scene dataset's pixels, test data — flows from one of these with an explicit seed, so the same
/// seed gives the same sequence on every platform. Draws never go through the standard library's
/// `random(in:using:)`, whose algorithm may change between releases:
/// - `unit()` and `uniform(_:_:)` use the top 24 bits of one 64-bit output;
/// - `int(below:)` uses Lemire's multiply-shift on the top 32 bits (bias below 2⁻³² · bound);
/// - `normal()` is Box–Muller on two 53-bit doubles (tails to about 8.6σ).
///
/// ```swift
/// var rng = SeededRNG(seed: 7, streams: 3, 0)   // item 3 of epoch 0 of the run seeded 7
/// let u = rng.uniform(-1, 1)
/// ```
///
/// Reference: Blackman & Vigna, "Scrambled Linear Pseudorandom Number Generators", 2018.
public struct SeededRNG: RandomNumberGenerator, Sendable, Codable, Equatable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole stream is determined by `seed` (four SplitMix64 outputs).
    public init(seed: UInt64) {
        var sm = seed
        state = (Self.splitMix(&sm), Self.splitMix(&sm), Self.splitMix(&sm), Self.splitMix(&sm))
    }

    /// A generator for one item of a larger seeded computation, e.g. `(seed, epoch, index)`:
    /// each stream number is mixed into the seed in turn, so different stream tuples give
    /// unrelated sequences without drawing from any shared generator.
    public init(seed: UInt64, streams: UInt64...) {
        var h = seed
        for s in streams { h = Self.mix(h ^ Self.mix(s &+ 0x9E37_79B9_7F4A_7C15)) }
        self.init(seed: h)
    }

    /// One SplitMix64 step: advances `state` and returns its mixed value.
    static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return mix(state)
    }

    /// The SplitMix64 output function (a 64-bit finaliser).
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0; state.3 ^= state.1; state.1 ^= state.2; state.0 ^= state.3
        state.2 ^= t
        state.3 = (state.3 << 45) | (state.3 >> 19)
        return result
    }

    /// Uniform in `[0, 1)` with 24 random bits.
    public mutating func unit() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in `[low, high)`.
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * unit() }

    /// Uniform integer in `0..<bound` (`bound > 0`), by Lemire's multiply-shift on 32 bits.
    public mutating func int(below bound: Int) -> Int {
        Int((UInt64(truncatingIfNeeded: next() >> 32) &* UInt64(bound)) >> 32)
    }

    /// `true` with probability `p` (never draws when `p ≤ 0`).
    public mutating func chance(_ p: Float) -> Bool { p > 0 && unit() < p }

    /// Standard normal by Box–Muller on two 53-bit uniforms (the first kept above zero).
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0), .leastNonzeroMagnitude)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2))
    }

    /// Shuffles `array` in place (Fisher–Yates with `int(below:)`, last index first).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, int(below: i + 1))
        }
    }

    /// An independent generator derived from this one's next output and `stream`.
    public mutating func split(stream: UInt64 = 0) -> SeededRNG { SeededRNG(seed: next() ^ (stream &* 0xD1B5_4A32_D192_ED03)) }

    public static func == (a: SeededRNG, b: SeededRNG) -> Bool { a.state == b.state }

    enum CodingKeys: CodingKey { case state }
    public init(from decoder: Decoder) throws {
        let s = try decoder.container(keyedBy: CodingKeys.self).decode([UInt64].self, forKey: .state)
        guard s.count == 4 else { throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.state], debugDescription: "SeededRNG state needs 4 words, got \(s.count)")) }
        state = (s[0], s[1], s[2], s[3])
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode([state.0, state.1, state.2, state.3], forKey: .state)
    }
}

extension Tensor {
    /// Uniform in `[low, high)`. Output shape: `shape`.
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, rng: inout SeededRNG) -> Tensor {
        let t = uninitialized(shape)
        let p = t.storage.pointer
        for i in 0..<t.count { p[i] = rng.uniform(low, high) }
        return t
    }

    /// Normal with `mean` and `std`. Output shape: `shape`.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout SeededRNG) -> Tensor {
        let t = uninitialized(shape)
        let p = t.storage.pointer
        for i in 0..<t.count { p[i] = mean + std * rng.normal() }
        return t
    }
}
