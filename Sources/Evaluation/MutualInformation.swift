import Foundation

/// Normalized mutual information of two labelings of the same N samples.
///
///     NMI(A, B) = I(A; B) / ((H(A) + H(B)) / 2)
///
/// with entropies and mutual information in nats from the empirical joint distribution
/// (`arithmetic` normalization, scikit-learn's default `average_method='arithmetic'`; Vinh, Epps &
/// Bailey, "Information Theoretic Measures for Clusterings Comparison", JMLR 2010). It lies in
/// [0, 1]: 1 when each labeling determines the other (up to renaming), 0 when they are
/// independent. Like scikit-learn, two labelings that each have a single value score 1, and a
/// single-valued labeling against any other scores 0. The label values are names only: any
/// integers (not necessarily `0..<K`) may be used.
public enum MutualInformation {
    /// Shannon entropy (nats) of the empirical distribution of `labels`.
    public static func entropy(_ labels: [Int]) -> Double {
        guard !labels.isEmpty else { return 0 }
        var counts: [Int: Int] = [:]
        for l in labels { counts[l, default: 0] += 1 }
        let n = Double(labels.count)
        // Summed in label order, so the result does not depend on the dictionary's iteration order.
        return -counts.keys.sorted().reduce(0) { s, label in let p = Double(counts[label]!) / n; return s + p * log(p) }
    }

    /// I(A; B) in nats of the empirical joint distribution of `(a[i], b[i])`.
    public static func mutualInformation(_ a: [Int], _ b: [Int]) -> Double {
        precondition(a.count == b.count, "MutualInformation: labelings of \(a.count) and \(b.count) samples")
        guard !a.isEmpty else { return 0 }
        struct Pair: Hashable, Comparable {
            var a, b: Int
            static func < (x: Pair, y: Pair) -> Bool { (x.a, x.b) < (y.a, y.b) }
        }
        var joint: [Pair: Int] = [:], ca: [Int: Int] = [:], cb: [Int: Int] = [:]
        for (x, y) in zip(a, b) {
            joint[Pair(a: x, b: y), default: 0] += 1
            ca[x, default: 0] += 1
            cb[y, default: 0] += 1
        }
        let n = Double(a.count)
        var mi = 0.0
        for pair in joint.keys.sorted() {   // a fixed order: bit-identical sums in every process
            let c = joint[pair]!
            let pxy = Double(c) / n
            mi += pxy * log(pxy * n * n / (Double(ca[pair.a]!) * Double(cb[pair.b]!)))
        }
        return max(mi, 0)
    }

    /// NMI with arithmetic-mean normalization (see the type's documentation).
    /// - Parameters: a, b: one label per sample, the same sample order; equal counts.
    public static func normalized(_ a: [Int], _ b: [Int]) -> Double {
        precondition(a.count == b.count, "MutualInformation: labelings of \(a.count) and \(b.count) samples")
        let ha = entropy(a), hb = entropy(b)
        if ha == 0 && hb == 0 { return 1 }
        let mean = (ha + hb) / 2
        return min(max(mutualInformation(a, b) / mean, 0), 1)
    }
}
