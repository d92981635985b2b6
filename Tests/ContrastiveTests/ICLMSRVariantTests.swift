import Foundation
import Testing
@testable import Contrastive
import NN
import TensorCore
import TestSupport

/// The ablation variants of ICL-MSR: `meta: frozen` and `form: geometric-mean` (see
/// docs/ICL-MSR.md), and every variant's gradients by central differences.
@Suite struct ICLMSRVariantTests {
    // MARK: - form: geometric-mean

    /// Two strata, one row, two candidates, target 0: `S₁ = [2, 0]`, `S₂ = [0, 2]`.
    /// Uniform prior: the mean logits are `[1, 1]`, so `L = log 2`; the arithmetic mean of the
    /// two losses is `½ log(1 + e⁻²) + ½ log(1 + e²) = 1.126928`. Prior (¾, ¼): mean logits
    /// `[1.5, 0.5]`, `L = log(1 + e⁻¹) = 0.313262` (arithmetic: 0.626928).
    @Test func geometricMeanGoldenValues() {
        let strata = [[LogitTerm(logits: Tensor(shape: [1, 2], [2, 0]), targets: [0])],
                      [LogitTerm(logits: Tensor(shape: [1, 2], [0, 2]), targets: [0])]]
        for (p, geometric, arithmetic) in [([Float(0.5), 0.5], 0.6931472, 1.126928), ([0.75, 0.25], 0.3132617, 0.626928)] {
            let prior = Tensor(shape: [2], p)
            let loss = MetaSemanticRegularizer.geometricMeanLoss(perStratum: strata, prior: prior).item
            #expect(abs(Double(loss) - geometric) < 1e-6, "prior \(p): \(loss)")
            let mean = zip(p, strata).reduce(Float(0)) { $0 + $1.0 * $1.1[0].loss(logits: $1.1[0].logits).item }
            #expect(abs(Double(mean) - arithmetic) < 1e-5, "prior \(p): arithmetic \(mean)")
        }
        // Exclusion is applied after the mean; the coefficient scales the term:
        // S = [1, 5, 0] without column 1 → 3 · log(1 + e⁻¹).
        let excluded = LogitTerm(logits: Tensor(shape: [1, 3], [1, 5, 0]), excluded: Tensor(shape: [1, 3], [0, 1, 0]), targets: [0], coefficient: 3)
        let loss = MetaSemanticRegularizer.geometricMeanLoss(perStratum: [[excluded]], prior: Tensor(shape: [1], [1])).item
        #expect(abs(Double(loss) - 3 * 0.3132617) < 1e-5)
    }

    @Test(arguments: ["simclr", "mocov2"])
    func logitTermsReproduceTheBaseLoss(_ name: String) throws {
        let method = try #require(try tinyMethod(name) as? any SoftmaxContrastiveMethod)
        let vectors = compared(method, seed: 2)
        let base = method.baseLoss(vectors).item
        let terms = method.logitTerms(vectors).reduce(Float(0)) { $0 + $1.loss(logits: $1.logits).item }
        #expect(abs(base - terms) <= 1e-6 * max(1, abs(base)), "\(name): baseLoss \(base) vs logit terms \(terms)")
    }

    /// `L_MSR` of SimCLR in the geometric form against a Double implementation of its definition:
    /// `u = normalize(normalize(z) + m_k)`, `S̄ = Σ_k P_k u uᵀ / T`, NT-Xent of `S̄`.
    @Test func geometricMeanMatchesANaiveSimCLRReference() throws {
        let method = try tinyMethod("simclr") as! SimCLR
        let regularizer = MetaSemanticRegularizer(dimension: method.comparisonDimension,
                                                  options: ICLMSROptions(strata: 3, strataScale: 2, form: .geometricMean), seed: 5)
        var rng = SeededRNG(seed: 3)
        regularizer.priorLogits.value = rng.tensor([3], -2, 2)
        let vectors = compared(method, seed: 4)
        let loss = Double(regularizer.loss(vectors, method: method).item)

        let (z1, z2) = vectors.pairs[0]
        let n = z1.shape[0], d = z1.shape[1], k = 3, t = Double(method.temperature)
        let z = (z1.scalars + z2.scalars).map(Double.init), m = regularizer.strata.value.scalars.map(Double.init)
        let w = regularizer.priorLogits.value.scalars.map(Double.init)
        let p = w.map { exp($0) / w.map(exp).reduce(0, +) }
        func normalized(_ v: [Double]) -> [Double] { let r = v.map { $0 * $0 }.reduce(0, +).squareRoot(); return v.map { $0 / r } }
        var mean = [[Double]](repeating: [Double](repeating: 0, count: 2 * n), count: 2 * n)
        for s in 0..<k {
            let u = (0..<(2 * n)).map { i in normalized(zip(normalized(Array(z[(i * d)..<(i * d + d)])), m[(s * d)..<(s * d + d)]).map { $0 + $1 }) }
            for i in 0..<(2 * n) { for j in 0..<(2 * n) { mean[i][j] += p[s] * zip(u[i], u[j]).map { $0 * $1 }.reduce(0, +) / t } }
        }
        var reference = 0.0
        for i in 0..<(2 * n) {
            let others = (0..<(2 * n)).filter { $0 != i }.map { mean[i][$0] }
            reference += -mean[i][(i + n) % (2 * n)] + log(others.map(exp).reduce(0, +))
        }
        reference /= Double(2 * n)
        #expect(abs(loss - reference) < 1e-5 * max(1, abs(reference)), "L_MSR \(loss) vs reference \(reference)")
    }

    /// Identical strata have identical logits, so the NWGM equals the arithmetic mean; distinct
    /// strata open the Jensen gap `Σ_k P_k LSE(S_k) − LSE(Σ_k P_k S_k) ≥ 0`.
    @Test(arguments: ["simclr", "mocov2"])
    func geometricMeanEqualsArithmeticOnlyWhenStrataAgree(_ name: String) throws {
        let method = try tinyMethod(name)
        let vectors = compared(method, seed: 6)
        func losses(_ setup: (MetaSemanticRegularizer) -> Void) -> (arithmetic: Float, geometric: Float) {
            let values = ICLMSROptions.Form.allCases.map { form -> Float in
                let r = MetaSemanticRegularizer(dimension: method.comparisonDimension, options: ICLMSROptions(strata: 3, strataScale: 2, form: form), seed: 8)
                r.priorLogits.value = Tensor(shape: [3], [0.3, -1, 0.7])
                setup(r)
                return r.loss(vectors, method: method).item
            }
            return (values[0], values[1])
        }
        let same = losses { r in
            let row = r.strata.value.slice(axis: 0, 0..<1)
            r.strata.value = Tensor.concat([row, row, row], axis: 0)
        }
        #expect(abs(same.arithmetic - same.geometric) <= 1e-5 * max(1, abs(same.arithmetic)), "\(name): \(same)")
        let distinct = losses { _ in }
        #expect(distinct.geometric < distinct.arithmetic - 1e-4, "\(name): \(distinct)")
    }

    @Test(arguments: ["byol", "simsiam", "barlowtwins"])
    func geometricMeanRefusesMethodsWithoutSoftmaxLogits(_ name: String) throws {
        let method = try tinyMethod(name)
        let options = ICLMSROptions(strata: 2, form: .geometricMean)
        #expect(throws: InvalidOption.self) { try options.validate(for: MethodName(rawValue: name)!) }
        do {
            _ = try ICLMSRStepper(method: method, optimizer: sgd(method), options: options, seed: 1)
            Issue.record("\(name): geometric-mean accepted")
        } catch let e as InvalidOption {
            #expect(e.key == "form" && e.message.contains("softmax"), "\(e)")
        }
        try ICLMSROptions(strata: 2, form: .geometricMean).validate(for: .simclr)
        #expect(ICLMSROptions.Form.geometricMean.supportedMethods == [.simclr, .mocov2])
        for m in MethodName.allCases {
            let conforms = try tinyMethod(m.rawValue) is any SoftmaxContrastiveMethod
            #expect(conforms == ICLMSROptions.Form.geometricMean.supportedMethods.contains(m), "\(m)")
        }
    }

    // MARK: - Gradients of L_MSR by central differences

    /// The variants whose `L_MSR` is a function of the compared vectors z, the strata M and the
    /// prior logits w. Methods with a stop-gradient (MoCo v2's key and queue, BYOL's and
    /// SimSiam's targets) are checked against their online vectors and w only: their analytic
    /// gradient deliberately ignores the stopped side, which a finite difference cannot.
    static let variants: [(method: String, options: ICLMSROptions, checksStrata: Bool)] = [
        ("simclr", ICLMSROptions(strata: 3, strataScale: 2), true),
        ("simclr", ICLMSROptions(strata: 3, injection: .gated, strataScale: 2), true),
        ("simclr", ICLMSROptions(strata: 3, prior: .uniform, strataScale: 2), true),
        ("simclr", ICLMSROptions(strata: 3, strataScale: 2, form: .geometricMean), true),
        ("simclr", ICLMSROptions(strata: 3, prior: .uniform, strataScale: 2, form: .geometricMean), true),
        ("barlowtwins", ICLMSROptions(strata: 3, strataScale: 2), true),
        ("mocov2", ICLMSROptions(strata: 3, strataScale: 2), false),
        ("mocov2", ICLMSROptions(strata: 3, strataScale: 2, form: .geometricMean), false),
        ("byol", ICLMSROptions(strata: 3, strataScale: 2), false),
        ("simsiam", ICLMSROptions(strata: 3, strataScale: 2), false),
    ]

    @Test(arguments: variants.indices)
    func regularizerGradientsMatchCentralDifferences(_ index: Int) throws {
        let (name, options, checksStrata) = Self.variants[index]
        let method = try tinyMethod(name)
        let regularizer = MetaSemanticRegularizer(dimension: method.comparisonDimension, options: options, seed: 3)
        var rng = SeededRNG(seed: 12)
        regularizer.priorLogits.value = rng.tensor([options.strata], -1, 1)
        let fixed = compared(method, seed: 9)
        // The online (first) vector of every pair; also SimCLR's and Barlow Twins' second vector.
        let firsts = fixed.pairs.map { Parameter($0.first) }
        let second = checksStrata ? Parameter(fixed.pairs[0].second) : nil
        let checked = firsts + (second.map { [$0] } ?? []) + [regularizer.priorLogits] + (checksStrata ? [regularizer.strata] : [])
        let mismatch = centralDifferenceMismatch(checked) {
            var vectors = fixed
            for (i, z) in firsts.enumerated() { vectors.pairs[i].first = z.value }
            if let second { vectors.pairs[0].second = second.value }
            return regularizer.loss(vectors, method: method)
        }
        #expect(mismatch == nil, "\(name) \(options.form) \(options.prior) \(options.injection): \(mismatch ?? "")")
    }

    // MARK: - meta: frozen

    @Test(arguments: ["simclr", "byol"])
    func frozenKeepsPhiBitIdenticalAndTakesNoMetaPass(_ name: String) throws {
        let views = randomViews(count: 3, seed: 4)
        let frozenMethod = CountingMethod(try tinyMethod(name)), bilevelMethod = CountingMethod(try tinyMethod(name))
        let reflectedMethod = CountingMethod(try tinyMethod(name))
        let frozen = try ICLMSRStepper(method: frozenMethod, optimizer: sgd(frozenMethod), options: ICLMSROptions(strata: 4, meta: .frozen), seed: 3)
        let bilevel = try ICLMSRStepper(method: bilevelMethod, optimizer: sgd(bilevelMethod), options: ICLMSROptions(strata: 4, metaInterval: 1), seed: 3)
        let reflected = try ICLMSRStepper(method: reflectedMethod, optimizer: sgd(reflectedMethod),
                                          options: ICLMSROptions(strata: 4, metaInterval: 1, finiteDifference: .reflected), seed: 3)
        let phi = frozen.regularizer.stateTensors()
        #expect(bitIdentical(phi, bilevel.regularizer.stateTensors()), "the same seeded initialization")
        for (s, (v1, v2)) in views.enumerated() {
            let (before, bilevelBefore, reflectedBefore) = (frozenMethod.forwardPasses, bilevelMethod.forwardPasses, reflectedMethod.forwardPasses)
            let f = try frozen.step(view1: v1, view2: v2, learningRate: 0.05, step: s, totalSteps: 3)
            let b = try bilevel.step(view1: v1, view2: v2, learningRate: 0.05, step: s, totalSteps: 3)
            _ = try reflected.step(view1: v1, view2: v2, learningRate: 0.05, step: s, totalSteps: 3)
            #expect(frozenMethod.forwardPasses - before == 1, "one forward pass per frozen iteration")
            #expect(bilevelMethod.forwardPasses - bilevelBefore == 4, "bilevel, central difference: step, virtual, θ ± εg'")
            #expect(reflectedMethod.forwardPasses - reflectedBefore == 3, "reflected: step, virtual, θ + εg' (θ − εg' from the step's own vectors)")
            for key in ["loss_meta", "meta_grad_norm", "fd_epsilon"] { #expect(f[key] == nil && b[key] != nil, "\(key)") }
            for key in ["loss", "loss_base", "loss_msr", "prior_entropy", "strata_cosine"] { #expect(f[key]?.isFinite == true, "\(key)") }
            if s == 0 {
                // Before Φ first moves, both take the same encoder step.
                #expect(f["loss"]!.bitPattern == b["loss"]!.bitPattern)
                #expect(bitIdentical(frozenMethod.stateTensors(), bilevelMethod.stateTensors()))
            }
        }
        #expect(bitIdentical(frozen.regularizer.stateTensors(), phi), "M and w never move")
        #expect(!bitIdentical(bilevel.regularizer.stateTensors(), phi), "the bilevel Φ did move")
        #expect(abs(frozen.regularizer.diagnostics()["prior_entropy"]! - log(4)) < 1e-6, "w = 0: the learned prior stays uniform")
    }

    // MARK: - metaInterval (default 3)

    /// The default schedule: a meta step (virtual pass, θ ± εg', a Φ step) at steps 0, 3, 6, …;
    /// in between one forward per iteration, no meta metrics, Φ unchanged.
    @Test func theDefaultScheduleTakesAMetaStepEveryThirdIteration() throws {
        #expect(ICLMSROptions().metaInterval == 3)
        let counted = CountingMethod(try tinyMethod("simclr"))
        let stepper = try ICLMSRStepper(method: counted, optimizer: sgd(counted), options: ICLMSROptions(strata: 4), seed: 3)
        var passes: [Int] = [], withMetrics: [Int] = [], phiMoved: [Int] = []
        for (s, (v1, v2)) in randomViews(count: 7, seed: 5).enumerated() {
            let (before, phi) = (counted.forwardPasses, stepper.regularizer.stateTensors())
            let metrics = try stepper.step(view1: v1, view2: v2, learningRate: 0.05, step: s, totalSteps: 7)
            passes.append(counted.forwardPasses - before)
            if metrics["loss_meta"] != nil && metrics["meta_grad_norm"] != nil && metrics["fd_epsilon"] != nil { withMetrics.append(s) }
            if !bitIdentical(stepper.regularizer.stateTensors(), phi) { phiMoved.append(s) }
        }
        #expect(passes == [4, 1, 1, 4, 1, 1, 4])
        #expect(withMetrics == [0, 3, 6] && phiMoved == [0, 3, 6], "meta metrics at \(withMetrics), Φ moved at \(phiMoved)")
    }

    @Test func newOptionsKeepTheCanonicalJSONOfTheDefaults() throws {
        let json = String(decoding: try JSONEncoder().encode(ICLMSROptions()), as: UTF8.self)
        #expect(!json.contains("\"meta\"") && !json.contains("\"form\""), "\(json)")
        let variant = ICLMSROptions(meta: .frozen, form: .geometricMean)
        let encoded = try JSONEncoder().encode(variant)
        let text = String(decoding: encoded, as: UTF8.self)
        #expect(text.contains("\"meta\":\"frozen\"") && text.contains("\"form\":\"geometric-mean\""), "\(text)")
        #expect(try JSONDecoder().decode(ICLMSROptions.self, from: encoded) == variant)
        #expect(try JSONDecoder().decode(ICLMSROptions.self, from: Data(json.utf8)) == ICLMSROptions())
    }
}

/// Compares the gradient of `loss` for every coordinate of `parameters` with the central
/// difference `[loss(x + ε) − loss(x − ε)] / 2ε` (Double accumulation, the `checkGradient`
/// tolerance `|analytic − numeric| ≤ 2e-3 + 2e-2 |numeric|`). Parameters are restored.
/// - Returns: the first mismatch, described, or `nil`.
private func centralDifferenceMismatch(_ parameters: [Parameter], eps: Float = 5e-3, _ loss: () -> Tensor) -> String? {
    let leaves = parameters.map(\.value)
    let analytic = loss().gradients(for: leaves)
    for (k, p) in parameters.enumerated() {
        let original = leaves[k]
        defer { p.value = original }
        let gradient = analytic[original]?.scalars ?? [Float](repeating: 0, count: original.count)
        var values = original.scalars
        for i in values.indices {
            let x = values[i]
            values[i] = x + eps; p.value = Tensor(shape: original.shape, values)
            let plus = Double(withoutGradients { loss() }.item)
            values[i] = x - eps; p.value = Tensor(shape: original.shape, values)
            let minus = Double(withoutGradients { loss() }.item)
            values[i] = x
            let numeric = Float((plus - minus) / (2 * Double(eps)))
            if abs(gradient[i] - numeric) > 2e-3 + 2e-2 * abs(numeric) {
                return "parameter \(k)[\(i)]: analytic \(gradient[i]) vs central difference \(numeric)"
            }
        }
    }
    return nil
}

/// Random compared vectors shaped like `method`'s (pairs `[N, d]` and MoCo v2's queue), N = 6.
private func compared(_ method: any ContrastiveMethod, seed: UInt64) -> ComparisonVectors {
    var rng = SeededRNG(seed: seed)
    let d = method.comparisonDimension, n = 6
    let pairCount = method.methodName == "simclr" || method.methodName == "barlowtwins" ? 1 : 2
    let pairs = (0..<pairCount).map { _ in (first: rng.tensor([n, d]), second: rng.tensor([n, d])) }
    return ComparisonVectors(pairs: pairs, negatives: method.methodName == "mocov2" ? rng.tensor([16, d]) : nil, features: pairs[0].first)
}

/// A method that counts its forward passes (`comparisonVectors` calls) and otherwise is `inner`
/// (same parameters, buffers and names).
private final class CountingMethod: ContrastiveMethod {
    let inner: any ContrastiveMethod
    var forwardPasses = 0
    init(_ inner: any ContrastiveMethod) { self.inner = inner }

    var ownParameters: [(String, Parameter)] { inner.ownParameters }
    var ownBuffers: [(String, Buffer)] { inner.ownBuffers }
    var children: [(String, any Module)] { inner.children }
    var methodName: String { inner.methodName }
    var backbone: any Backbone { inner.backbone }
    var comparisonDimension: Int { inner.comparisonDimension }
    var lossSeesOnlyNormalizedVectors: Bool { inner.lossSeesOnlyNormalizedVectors }
    func trainableParameters() -> [NamedParameter] { inner.trainableParameters() }
    func didStep(step: Int, totalSteps: Int) { inner.didStep(step: step, totalSteps: totalSteps) }
    func baseLoss(_ vectors: ComparisonVectors) -> Tensor { inner.baseLoss(vectors) }
    func comparisonVectors(view1: Tensor, view2: Tensor, mode: ForwardMode, reusingTargetsOf previous: ComparisonVectors?) throws -> ComparisonVectors {
        forwardPasses += 1
        return try inner.comparisonVectors(view1: view1, view2: view2, mode: mode, reusingTargetsOf: previous)
    }
}
