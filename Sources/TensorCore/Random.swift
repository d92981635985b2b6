import Foundation

/// A seeded, splittable pseudo-random generator (xoshiro256** seeded by SplitMix64).
///
/// Every random choice in Backdrop flows from one of these with an explicit seed; the same seed
/// gives the same sequence on every platform.
public struct SeededRNG: RandomNumberGenerator, Sendable, Codable, Equatable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0; state.3 ^= state.1; state.1 ^= state.2; state.0 ^= state.3
        state.2 ^= t
        state.3 = (state.3 << 45) | (state.3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Standard normal by Box–Muller.
    public mutating func nextNormal() -> Float {
        let u1 = max(Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0), .leastNonzeroMagnitude)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2))
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
        for i in 0..<t.count { p[i] = low + (high - low) * rng.nextUnitFloat() }
        return t
    }

    /// Normal with `mean` and `std`. Output shape: `shape`.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout SeededRNG) -> Tensor {
        let t = uninitialized(shape)
        let p = t.storage.pointer
        for i in 0..<t.count { p[i] = mean + std * rng.nextNormal() }
        return t
    }
}
