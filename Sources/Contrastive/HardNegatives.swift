import NN
import TensorCore

/// A method with negatives that can also contrast each batch against same-background hard
/// negatives: per image i, one extra image with i's background and another image's foreground
/// (`ImageData.BackgroundIntervention.hardNegatives`). SimCLR and MoCo v2 conform; BYOL,
/// SimSiam and Barlow Twins have no negatives and do not.
///
/// The hard negatives only add negative columns: positives, and every number of a run without
/// them, are unchanged.
///
/// References: Ryali, Schwab & Morcos, "Characterizing and Improving the Robustness of
/// Self-Supervised Learning through Background Augmentations", arXiv:2103.12719, 2021 (BG_Swaps).
public protocol HardNegativeContrastiveMethod: ContrastiveMethod {
    /// `comparisonVectors(view1:view2:mode:reusingTargetsOf: nil)` plus `hardNegatives`, the
    /// vectors of the N hard-negative images `[N, 3, H, W]` → `[N, d]`.
    func comparisonVectors(view1: Tensor, view2: Tensor, hardNegatives: Tensor, mode: ForwardMode) throws -> ComparisonVectors
}

extension HardNegativeContrastiveMethod {
    /// Loss and metrics with hard negatives: the method's `baseLoss` of the vectors, its
    /// representation metrics, and `hard_neg_sim`, the mean cosine between each image's first
    /// compared vector and its own hard negative's (row i with row i).
    public func loss(view1: Tensor, view2: Tensor, hardNegatives: Tensor, mode: ForwardMode) throws -> MethodOutput {
        let vectors = try comparisonVectors(view1: view1, view2: view2, hardNegatives: hardNegatives, mode: mode)
        let loss = baseLoss(vectors)
        var metrics = representationMetrics(vectors).merging(["loss": loss.item]) { _, b in b }
        if let h = vectors.hardNegatives, let first = vectors.pairs.first?.first {
            metrics["hard_neg_sim"] = pairSimilarities(first, h).positive
        }
        return MethodOutput(loss: loss, metrics: metrics)
    }
}
