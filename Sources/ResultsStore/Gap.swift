import Foundation

/// A derived per-seed figure of a row of the matrix — the same differences the `cell_gaps` view
/// computes in SQL (Schema.swift); the reports and the claims read them from here.
public enum Gap: String, Sendable, CaseIterable {
    /// acc(full) − acc(foreground).
    case fg = "fg-gap"
    /// acc(mixed-same) − acc(mixed-random) (ImageNet-9's BG-gap).
    case bg = "bg-gap"
    /// acc(only-background).
    case onlyBackground = "only-bg acc"

    /// The test view whose accuracy the gap starts from, and the one subtracted (nil: none).
    public var views: (from: String, minus: String?) {
        switch self {
        case .fg: return ("full", "foreground")
        case .bg: return ("mixed-same", "mixed-random")
        case .onlyBackground: return ("only-background", nil)
        }
    }

    /// The gap of one run or seed from its accuracy per test view; nil when a view is missing.
    public func value(_ accuracy: (String) -> Double?) -> Double? {
        guard let a = accuracy(views.from) else { return nil }
        guard let minus = views.minus else { return a }
        return accuracy(minus).map { a - $0 }
    }
}
