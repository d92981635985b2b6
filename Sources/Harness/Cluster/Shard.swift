import Foundation

/// Slice `index` of `count` of a matrix (`--shard I/N`, 0 ≤ I < N): the cells whose position in
/// the matrix's cell keys, sorted, is I modulo N.
///
/// The partition depends only on the spec's cell keys, so every task of a re-submission gets the
/// same cells, every cell is in exactly one slice, and slices differ in size by at most one.
/// With N = the number of cells, slice I is the I-th cell in key order (one Slurm array task per cell).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, index >= 0, index < count else {
            throw SpecError(location: "--shard", key: "", message: "\(index)/\(count): expected I/N with 0 ≤ I < N, e.g. --shard 0/4")
        }
        self.index = index
        self.count = count
    }

    /// Parses `I/N`, e.g. `3/8`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw SpecError(location: "--shard", key: "", message: "\(text): expected I/N with 0 ≤ I < N, e.g. --shard 0/4")
        }
        try self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// The keys of `keys` in this slice, in key order.
    public func select(_ keys: [String]) -> [String] {
        keys.sorted().enumerated().filter { $0.offset % count == index }.map(\.element)
    }

    /// Position of `key` among `keys` sorted: the array task index of a one-cell-per-task shard.
    public static func position(of key: String, in keys: [String]) -> Int? {
        keys.sorted().firstIndex(of: key)
    }
}
