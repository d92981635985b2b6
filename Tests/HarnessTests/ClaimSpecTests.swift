import Foundation
import ResultsStore
import Testing
@testable import Harness

/// `claims:` in a spec: decoding with defaults, validation errors naming the claim and field,
/// and no effect on the cells.
@Suite struct ClaimSpecTests {
    /// `sampleSpec` (simclr; none, icl-msr; full, foreground) plus the untrained control.
    static let base = sampleSpec + "\ncontrols: [untrained]\n"

    static let claims = """

    claims:
      - name: icl-helps
        metric: {protocol: linear, probe: full, testView: mixed-random}
        direction: greater
        treatment: {trainView: full, regularizer: icl-msr}
        baseline: {trainView: full, regularizer: none}
      - name: views
        metric: {protocol: knn, probe: train-view, stat: top5}
        direction: less
        treatment: {trainView: foreground, regularizer: none, testView: full}
        baseline: {trainView: foreground, regularizer: none, testView: foreground}
      - name: vs-control
        metric: {protocol: linear, probe: full, testView: fg-gap}
        direction: greater
        treatment: {method: simclr, trainView: full, regularizer: none}
        baseline: {control: untrained, trainView: full}
    """

    @Test func decodesClaimsWithDefaultsFilledIn() throws {
        let spec = try ExperimentSpec.parse(Self.base + Self.claims, source: "s.yaml")
        let claims = try #require(spec.claims)
        #expect(claims.map(\.name) == ["icl-helps", "views", "vs-control"])
        #expect(claims[0].metric == ClaimMetric(protocolName: "linear", probe: "full", testView: "mixed-random", stat: "top1"))
        #expect(claims[0].treatment == CellSelector(method: "simclr", regularizer: "icl-msr", trainView: "full"))
        #expect(claims[1].direction == .less && claims[1].metric.stat == "top5" && claims[1].metric.testView == "full")
        #expect(claims[1].treatment.testView == nil && claims[1].baseline.testView == "foreground")
        #expect(claims[2].baseline == CellSelector(method: "untrained", regularizer: "none", trainView: "full"))
        #expect(claims[2].metric.testView == "fg-gap")
    }

    @Test func claimsChangeNoCellAndAbsentClaimsKeepTheSpecHash() throws {
        let plain = try ExperimentSpec.parse(Self.base, source: "s.yaml")
        let stated = try ExperimentSpec.parse(Self.base + Self.claims, source: "s.yaml")
        #expect(plain.claims == nil && !plain.canonicalJSON.contains("claims"))
        #expect(plain.cells().map(\.configSHA256) == stated.cells().map(\.configSHA256))
        #expect(plain.cells().map(\.key) == stated.cells().map(\.key))
    }

    @Test func sweepValuesSelectCellsAndAreRequiredWhenSeveral() throws {
        let swept = Self.base + "\nsweep: {iclmsr.weight: [0.1, 1]}\n"
        let ok = swept + """
        claims:
          - name: w
            metric: {protocol: linear, probe: full, testView: full}
            direction: greater
            treatment: {trainView: full, regularizer: icl-msr, sweep: {iclmsr.weight: 1}}
            baseline: {trainView: full, regularizer: none, sweep: {iclmsr.weight: 1}}
        """
        let spec = try ExperimentSpec.parse(ok, source: "s.yaml")
        #expect(spec.claims?[0].treatment.sweep == ["iclmsr.weight": "1"])
        let missing = ok.replacingOccurrences(of: "baseline: {trainView: full, regularizer: none, sweep: {iclmsr.weight: 1}}",
                                              with: "baseline: {trainView: full, regularizer: none}")
        expectError(missing, key: "claims[0].baseline.sweep.iclmsr.weight", message: "claim 'w': the spec has several values (0.1, 1)")
        expectError(ok.replacingOccurrences(of: "weight: 1}}\n    baseline", with: "weight: 5}}\n    baseline"),
                    key: "claims[0].treatment.sweep.iclmsr.weight", message: "swept values 0.1, 1")
    }

    static func one(_ body: String) -> String {
        base + "\nclaims:\n  - name: c\n" + body.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n"
    }

    static let good = """
    metric: {protocol: linear, probe: full, testView: full}
    direction: greater
    treatment: {trainView: full, regularizer: icl-msr}
    baseline: {trainView: full, regularizer: none}
    """

    /// (text in `good`, its replacement, the error's key, a part of its message).
    static let badClaims: [(String, String, String, String)] = [
        ("direction: greater", "direction: bigger", "claims[0].direction", "unknown direction 'bigger'; use greater, less"),
        ("direction: greater\n", "", "claims[0].direction", "state the direction"),
        ("regularizer: icl-msr", "regularizer: dropout", "claims[0].treatment.regularizer", "unknown regularizer 'dropout'"),
        ("{trainView: full, regularizer: icl-msr}", "{trainView: full, regularizer: icl-msr, method: byol}",
         "claims[0].treatment.method", "unknown method 'byol'"),
        ("{trainView: full, regularizer: none}", "{trainView: mixed-same, regularizer: none}", "claims[0].baseline.trainView",
         "unknown train view 'mixed-same'"),
        ("{trainView: full, regularizer: none}", "{regularizer: none}", "claims[0].baseline.trainView", "several values (full, foreground)"),
        ("testView: full}", "testView: mixed}", "claims[0].metric.testView", "unknown test view 'mixed'"),
        (", testView: full}", "}", "claims[0].metric.testView", "several test views"),
        ("probe: full", "probe: only-background", "claims[0].metric.probe", "unknown probe 'only-background'"),
        ("protocol: linear", "protocol: svm", "claims[0].metric.protocol", "unknown protocol 'svm'"),
        ("protocol: linear, ", "stat: top3, protocol: linear, ", "claims[0].metric.stat", "unknown stat 'top3'"),
        ("direction: greater", "direction: greater\nexpected: yes", "claims[0].expected", "unknown key"),
        ("{trainView: full, regularizer: none}", "{trainView: full, regularizer: none, seed: 0}", "claims[0].baseline.seed", "unknown key"),
        ("{trainView: full, regularizer: none}", "{control: supervised, trainView: full}", "claims[0].baseline.control",
         "unknown control 'supervised'"),
        ("{trainView: full, regularizer: none}", "{trainView: full, regularizer: none, sweep: {seed: 1}}", "claims[0].baseline.sweep.seed",
         "not a sweep axis"),
    ]

    @Test(arguments: badClaims)
    func errorsNameTheClaimAndField(_ bad: (String, String, String, String)) {
        #expect(Self.good.contains(bad.0))
        expectError(Self.one(Self.good.replacingOccurrences(of: bad.0, with: bad.1)), key: bad.2, message: bad.3)
    }

    @Test func aDuplicateNameOrANonListIsAnError() {
        let twice = Self.one(Self.good) + "  - name: c\n" + Self.good.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n"
        expectError(twice, key: "claims[1].name", message: "named twice")
        expectError(Self.base + "\nclaims: {name: c}\n", key: "claims", message: "expected a list of claims")
    }

    func expectError(_ text: String, key: String, message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try ExperimentSpec.parse(text, source: "s.yaml")
            Issue.record("expected an error at \(key)", sourceLocation: sourceLocation)
        } catch let e as SpecError {
            #expect(e.key == key, "\(e)", sourceLocation: sourceLocation)
            #expect(e.message.contains(message), "\(e)", sourceLocation: sourceLocation)
            #expect(e.location.hasPrefix("s.yaml:"), "\(e)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }
}
