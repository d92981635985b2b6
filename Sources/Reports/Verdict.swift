import Foundation

/// The direction a claim states for a paired difference `treatment − baseline`.
public enum ClaimDirection: String, Sendable, Equatable {
    /// The claim holds when the difference is positive (`> 0`).
    case positive = "> 0"
    /// The claim holds when the difference is negative (`< 0`).
    case negative = "< 0"
}

/// How a paired difference judges a claim, from its confidence interval alone.
///
/// - `holds`: the interval excludes 0 on the claimed side;
/// - `contradicted`: the interval excludes 0 on the other side;
/// - `inconclusive`: the interval contains 0, or there is no interval (fewer than 2 pairs).
///
/// No correction for multiple comparisons is applied here: a document that judges many claims at
/// the 95% level should expect about one in twenty of the true-null ones to come out decided. A
/// spec's stated claims (`ClaimJudge`) also require the Holm-adjusted p-value to be below 0.05.
public enum Verdict: String, Sendable, Equatable, CaseIterable {
    case holds, contradicted, inconclusive

    /// Judges `delta` against `direction`.
    public init(_ delta: PairedDelta?, direction: ClaimDirection) {
        guard let ci = delta?.interval else { self = .inconclusive; return }
        let positive = ci.lowerBound > 0, negative = ci.upperBound < 0
        switch direction {
        case .positive: self = positive ? .holds : (negative ? .contradicted : .inconclusive)
        case .negative: self = negative ? .holds : (positive ? .contradicted : .inconclusive)
        }
    }
}
