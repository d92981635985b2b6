import TensorCore

/// Top-k accuracy of class scores.
///
/// Ranking rule (deterministic, no optimistic ties): classes are ordered by score, highest first,
/// ties broken by the lower class index — `torch.topk`'s usual outcome on CPU. The true class
/// counts as correct at k when its position in that order is below k. So a row of all-equal
/// scores is "correct" only for the classes with the lowest indices, never for every class.
public enum TopK {
    /// Position of class `label` in the ranking of `scores` (0 = best).
    /// - Parameter scores: `classCount` scores of one sample.
    @inline(__always)
    public static func rank(of label: Int, in scores: UnsafePointer<Float>, classCount: Int) -> Int {
        let s = scores[label]
        var r = 0
        for c in 0..<classCount {
            let v = scores[c]
            // NaN scores rank last; a NaN true score ranks after everything.
            if s.isNaN { if !v.isNaN || c < label { r += 1 }; continue }
            if v > s || (v == s && c < label) { r += 1 }
        }
        return r
    }

    /// Numbers of samples whose true class ranks below each `k` in `ks`.
    /// - Parameters:
    ///   - scores: `[N, C]` class scores (logits, probabilities or votes; only the order matters).
    ///   - labels: N labels in `0..<C`.
    /// - Returns: one count per entry of `ks`.
    public static func correctCounts(scores: Tensor, labels: [Int], ks: [Int]) -> [Int] {
        precondition(scores.rank == 2 && scores.shape[0] == labels.count,
                     "TopK: scores \(scores.shape) do not match \(labels.count) labels")
        let c = scores.shape[1]
        var counts = [Int](repeating: 0, count: ks.count)
        let p = scores.pointer
        for (i, label) in labels.enumerated() {
            precondition(label >= 0 && label < c, "TopK: label \(label) out of range 0..<\(c)")
            let r = rank(of: label, in: p + i * c, classCount: c)
            for (j, k) in ks.enumerated() where r < k { counts[j] += 1 }
        }
        return counts
    }

    /// Top-1 and top-k accuracy as fractions (`k` = `min(5, C)` by default).
    public static func accuracy(scores: Tensor, labels: [Int], k: Int = 5) -> (top1: Double, topK: Double, k: Int) {
        let kk = min(k, scores.shape[1])
        guard !labels.isEmpty else { return (0, 0, kk) }
        let counts = correctCounts(scores: scores, labels: labels, ks: [1, kk])
        return (Double(counts[0]) / Double(labels.count), Double(counts[1]) / Double(labels.count), kk)
    }
}
