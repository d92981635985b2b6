import Testing
@testable import Evaluation

@Suite struct MutualInformationTests {
    @Test func identicalAndRenamedLabelingsScoreOne() {
        let a = [0, 0, 1, 1, 2, 2, 2, 0]
        #expect(abs(MutualInformation.normalized(a, a) - 1) < 1e-12)
        // Label values are names only: a renaming (and non-contiguous values) is the same partition.
        #expect(abs(MutualInformation.normalized(a, a.map { [7, -3, 40][$0] }) - 1) < 1e-12)
    }

    @Test func independentLabelingsScoreZero() {
        // Every (a, b) combination equally often: the joint is the product of the marginals.
        let a = (0..<120).map { $0 % 3 }, b = (0..<120).map { ($0 / 3) % 4 }
        #expect(abs(MutualInformation.mutualInformation(a, b)) < 1e-12)
        #expect(abs(MutualInformation.normalized(a, b)) < 1e-12)
    }

    @Test func smallCasesMatchAHandComputation() {
        // a = [0,0,1,1], b = [0,0,0,1]: H(a) = ln 2, H(b) = −(¾ ln ¾ + ¼ ln ¼) = 0.5623351,
        // I = ½ ln(4/3) + ¼ ln(2/3) + ¼ ln 2 = 0.2157616, NMI = I / ((H(a) + H(b)) / 2) = 0.3437110
        // (scikit-learn's normalized_mutual_info_score gives the same).
        let a = [0, 0, 1, 1], b = [0, 0, 0, 1]
        #expect(abs(MutualInformation.entropy(a) - 0.6931472) < 1e-7)
        #expect(abs(MutualInformation.entropy(b) - 0.5623351) < 1e-7)
        #expect(abs(MutualInformation.mutualInformation(a, b) - 0.2157616) < 1e-7)
        #expect(abs(MutualInformation.normalized(a, b) - 0.3437110) < 1e-7)
        #expect(abs(MutualInformation.normalized(b, a) - 0.3437110) < 1e-7)
        // Three strata against two families: I = 0.3182571, H = 1.0114043 and 0.6365142.
        #expect(abs(MutualInformation.normalized([0, 0, 0, 1, 1, 2], [5, 5, 7, 7, 7, 7]) - 0.3862534) < 1e-7)
    }

    @Test func singleValuedLabelings() {
        #expect(MutualInformation.normalized([3, 3, 3], [1, 1, 1]) == 1)
        #expect(MutualInformation.normalized([3, 3, 3, 3], [0, 1, 0, 1]) == 0)
        #expect(MutualInformation.normalized([], []) == 1)
    }
}
