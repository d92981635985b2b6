import Foundation
import TensorCore

/// A linear classifier on frozen, L2-normalized features: multinomial logistic regression.
///
/// Minimizes `(1/N) Σᵢ CE(softmax(W x̂ᵢ + b), yᵢ) + λ/2 ‖W‖²` over `W [C, D]` and `b [C]` (bias not
/// penalized), `x̂ = x / ‖x‖`, with full-batch L-BFGS (`LBFGS`: history 10, Armijo backtracking)
/// from `W = 0, b = 0`. The problem is strictly convex in `W`, so the result does not depend on a
/// seed or on the data order, and "trained to convergence" is checked, not hoped for: training
/// stops when `‖∇‖∞ ≤ gradientTolerance`, when the objective stops changing (relative change below
/// `relativeTolerance` on 5 consecutive iterations), or at `maxIterations`; the result records
/// which. Logits and gradients run on BLAS (`Tensor.matmul`); the objective is accumulated in
/// `Double`.
///
/// With `standardize` (default) each dimension of `x̂` is first centred and scaled by its mean and
/// standard deviation over the training features, and the penalty applies to the weights of those
/// standardized inputs; the fitted model folds the affine map back (`W ← W/σ`, `b ← b − W·μ/σ`),
/// so it is still a linear classifier of `x̂`. Why: contrastive features after a ReLU and L2
/// normalization sit in a narrow cone (pairwise cosines ≈ 0.9), so the directions that separate
/// classes have a tiny spread and a fixed `λ` would mostly measure that spread instead of the
/// features' quality (a probe at λ = 1e-4 then underfits even its training set).
///
/// Why L-BFGS rather than SGD: on a few thousand images with D ≤ 512 one full-batch step costs two
/// small GEMMs, so a few hundred quasi-Newton iterations reach the optimum in well under a second,
/// with no learning-rate schedule to tune or report.
public struct LinearProbe: Sendable {
    /// λ of the `λ/2 ‖W‖²` penalty (default 1e-4: with unit-norm features it bounds the logits
    /// enough to keep separable problems finite without costing accuracy).
    public var weightDecay: Double
    public var maxIterations: Int
    public var gradientTolerance: Double
    public var relativeTolerance: Double
    public var history: Int
    /// Standardize each dimension of the normalized features on the training set (see above).
    public var standardize: Bool

    public init(weightDecay: Double = 1e-4, maxIterations: Int = 1000, gradientTolerance: Double = 1e-5,
                relativeTolerance: Double = 1e-9, history: Int = 10, standardize: Bool = true) {
        precondition(weightDecay >= 0 && weightDecay.isFinite, "LinearProbe: weightDecay must be ≥ 0, got \(weightDecay)")
        precondition(maxIterations >= 1, "LinearProbe: maxIterations must be ≥ 1")
        self.weightDecay = weightDecay
        self.maxIterations = maxIterations
        self.gradientTolerance = gradientTolerance
        self.relativeTolerance = relativeTolerance
        self.history = history
        self.standardize = standardize
    }

    /// A fitted probe.
    public struct Model: Sendable {
        /// `[C, D]` weights and `[C]` bias, applied to L2-normalized features.
        public var weight: Tensor
        public var bias: Tensor
        /// The recipe and training outcome, copied into every result row.
        public var recipe: LinearProbeRecipe
        /// The view and size of the training features.
        public var trainView: String
        public var trainCount: Int

        /// Class logits `[M, C]` of raw features `[M, D]` (normalized here).
        public func logits(_ features: Tensor) -> Tensor {
            withoutGradients { Tensor.matmul(features.l2Normalized(axis: 1), weight, transposeB: true) + bias }
        }

        /// Top-1 / top-5 on `test`, as a result row.
        public func evaluate(_ test: FeatureSet) -> EvaluationResult {
            let acc = TopK.accuracy(scores: logits(test.features), labels: test.labels)
            return EvaluationResult(evaluationProtocol: .linear, probeView: trainView, testView: test.view, split: test.split,
                                    top1: acc.top1, top5: acc.topK, topK: acc.k, n: test.count, trainCount: trainCount,
                                    classCount: weight.shape[0], featureDimension: weight.shape[1], probe: recipe)
        }
    }

    /// Fits the probe on `train` (raw features; normalized here).
    public func fit(_ train: FeatureSet) -> Model {
        fit(features: train.features, labels: train.labels, classCount: train.classCount, view: train.view)
    }

    /// Fits the probe on `[N, D]` features with N labels in `0..<classCount`.
    public func fit(features: Tensor, labels: [Int], classCount c: Int, view: String = "") -> Model {
        precondition(features.rank == 2 && features.shape[0] == labels.count && !labels.isEmpty,
                     "LinearProbe: features \(features.shape) do not match \(labels.count) labels")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < c }, "LinearProbe: labels must lie in 0..<\(c)")
        let n = features.shape[0], d = features.shape[1]
        let normalized = withoutGradients { features.l2Normalized(axis: 1) }
        // Per-dimension mean and std of the normalized training features (identity when off).
        var mu = [Double](repeating: 0, count: d), sigma = [Double](repeating: 1, count: d)
        if standardize {
            let p = normalized.pointer
            for j in 0..<d {
                var s = 0.0, ss = 0.0
                for i in 0..<n { let v = Double(p[i * d + j]); s += v; ss += v * v }
                mu[j] = s / Double(n)
                sigma[j] = max((ss / Double(n) - mu[j] * mu[j]).squareRoot(), 1e-6)
            }
        }
        let x = standardize
            ? Tensor(shape: [n, d], (0..<(n * d)).map { Float((Double(normalized.pointer[$0]) - mu[$0 % d]) / sigma[$0 % d]) })
            : normalized
        let lambda = weightDecay
        let invN = 1 / Double(n)

        // θ = [W (C·D, row-major), b (C)].
        func evaluate(_ theta: [Double]) -> (value: Double, gradient: [Double]) {
            let w = Tensor(shape: [c, d], theta[0..<(c * d)].map { Float($0) })
            let b = Tensor(shape: [c], theta[(c * d)...].map { Float($0) })
            let logits = withoutGradients { Tensor.matmul(x, w, transposeB: true) + b }   // [N, C]
            let g = Tensor.uninitialized([n, c])                                           // (P − Y)/N
            let lp = logits.pointer, gp = g.storage.pointer
            var loss = 0.0
            for i in 0..<n {
                let row = lp + i * c
                var mx = -Float.infinity
                for j in 0..<c { mx = max(mx, row[j]) }
                var s: Double = 0
                for j in 0..<c { s += Foundation.exp(Double(row[j] - mx)) }
                let lse = Double(mx) + Foundation.log(s)
                loss += lse - Double(row[labels[i]])
                for j in 0..<c { gp[i * c + j] = Float(Foundation.exp(Double(row[j]) - lse) * invN) }
                gp[i * c + labels[i]] -= Float(invN)
            }
            let gw = withoutGradients { Tensor.matmul(g, x, transposeA: true) }          // [C, D]
            var grad = [Double](repeating: 0, count: c * d + c)
            var penalty = 0.0
            let gwp = gw.pointer
            for k in 0..<(c * d) {
                penalty += theta[k] * theta[k]
                grad[k] = Double(gwp[k]) + lambda * theta[k]
            }
            for i in 0..<n { for j in 0..<c { grad[c * d + j] += Double(gp[i * c + j]) } }
            return (loss * invN + 0.5 * lambda * penalty, grad)
        }

        let solver = LBFGS(history: history, maxIterations: maxIterations,
                           gradientTolerance: gradientTolerance, relativeTolerance: relativeTolerance)
        let outcome = solver.minimize([Double](repeating: 0, count: c * d + c), evaluate)
        // Fold the standardization into the model: W x̃ + b = (W/σ) x̂ + (b − Σ W μ/σ).
        var w = Array(outcome.x[0..<(c * d)]), b = Array(outcome.x[(c * d)...])
        for k in 0..<c {
            for j in 0..<d {
                w[k * d + j] /= sigma[j]
                b[k] -= w[k * d + j] * mu[j]
            }
        }
        let weight = Tensor(shape: [c, d], w.map { Float($0) })
        let bias = Tensor(shape: [c], b.map { Float($0) })
        var model = Model(weight: weight, bias: bias,
                          recipe: LinearProbeRecipe(optimizer: "lbfgs", weightDecay: weightDecay, maxIterations: maxIterations,
                                                    gradientTolerance: gradientTolerance, relativeTolerance: relativeTolerance,
                                                    history: history, standardize: standardize, iterations: outcome.iterations, converged: outcome.converged,
                                                    finalObjective: outcome.objective, trainTop1: 0, learningRate: "line-search"),
                          trainView: view, trainCount: n)
        model.recipe.trainTop1 = TopK.accuracy(scores: model.logits(features), labels: labels).top1
        return model
    }
}
