import Testing
@testable import Contrastive
import NN
import TensorCore
import TestSupport

@Suite struct StratumAssignmentTests {
    @Test func eachVectorGoesToTheStratumOfHighestCosine() {
        let regularizer = MetaSemanticRegularizer(dimension: 2, options: ICLMSROptions(strata: 3), seed: 0)
        // m₀ = (1, 0), m₁ = (0, 5) (length does not matter), m₂ = (−1, −1).
        regularizer.strata.value = Tensor(shape: [3, 2], [1, 0, 0, 5, -1, -1])
        let z = Tensor(shape: [5, 2], [
            3, 1,        // cos 0.95, 0.32, −0.89 → 0
            -1, 5,       // cos −0.20, 0.98, −0.55 → 1
            0.1, -3,     // cos 0.03, −1.00, 0.68 → 2
            -30, 10,     // cos −0.95, 0.32, 0.45 → 2
            0.002, 0.0001, // tiny norm: only the direction counts → 0
        ])
        #expect(regularizer.assignStrata(z) == [0, 1, 2, 2, 0])
        #expect(regularizer.assignStrata(z * 7) == [0, 1, 2, 2, 0])
    }

    /// Computing the compared vectors between two steps leaves the trajectory bit-identical (no
    /// running-statistic update, no MoCo queue entry, no EMA step).
    @Test(arguments: allMethods)
    func comparedVectorsChangeNothing(_ name: String) throws {
        let a = try tinyMethod(name), b = try tinyMethod(name)
        let sa = PlainStepper(method: a, optimizer: sgd(a)), sb = PlainStepper(method: b, optimizer: sgd(b))
        let views = randomViews(count: 2)
        _ = try sa.step(view1: views[0].0, view2: views[0].1, learningRate: 0.05, step: 0, totalSteps: 2)
        _ = try sb.step(view1: views[0].0, view2: views[0].1, learningRate: 0.05, step: 0, totalSteps: 2)
        let z = try a.comparedVectors(of: views[1].0)
        #expect(z.shape == [4, a.comparisonDimension])
        // Each image's vector is its own: the same as when it is the first view of a duplicated batch,
        // for even and odd batches.
        for count in [4, 3] {
            let images = views[1].1.slice(axis: 0, 0..<count)
            let reference = try withoutGradients {
                try a.comparisonVectors(view1: images, view2: images, mode: .eval, reusingTargetsOf: nil).pairs[0].first
            }
            expectClose(try a.comparedVectors(of: images), reference, tol: 1e-5, "\(name), \(count) images")
        }
        _ = try sa.step(view1: views[1].0, view2: views[1].1, learningRate: 0.05, step: 1, totalSteps: 2)
        _ = try sb.step(view1: views[1].0, view2: views[1].1, learningRate: 0.05, step: 1, totalSteps: 2)
        #expect(bitIdentical(sa.stateTensors(), sb.stateTensors()), "\(name)")
    }
}
