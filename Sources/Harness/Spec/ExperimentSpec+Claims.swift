import Contrastive
import Evaluation
import Foundation
import ImageData
import ResultsStore

/// `claims:` — statements about the experiment's results that `backdrop claims` (and the end of
/// `backdrop reproduce`) judges with confidence intervals and a Holm correction.
///
/// ```yaml
/// claims:
///   - name: trained-full-beats-untrained
///     metric: {protocol: linear, probe: full, testView: full, stat: top1}   # stat defaults to top1
///     direction: greater                    # treatment − baseline > 0 (or less)
///     treatment: {method: simclr, trainView: full, regularizer: none}
///     baseline: {control: untrained, trainView: full}
///   - name: full-view-beats-foreground-view
///     metric: {protocol: linear, probe: full}
///     direction: greater
///     treatment: {trainView: full, regularizer: none, testView: full}         # the same cells read on
///     baseline: {trainView: full, regularizer: none, testView: foreground}    # two test views
/// ```
///
/// A selector picks one group of cells — every coordinate but the seed — by `method` or
/// `control`, `regularizer`, `trainView`, `sweep: {key: value}` and optionally its own `testView`
/// (overriding the metric's). A coordinate left out must have a single value in the spec (a
/// control's regularizer is `none`), else it is an error naming the claim and the field. Claims
/// are validated against the spec (methods, regularizers, views, probes, sweep values) but are
/// not part of any cell's configuration, so adding one changes no cell's hash.
extension ExperimentSpec {
    /// The test-view names a claim may read: the spec's test views, its named test sets, and the
    /// gaps (``Gap``: `fg-gap`, `bg-gap`) whose two views are evaluated.
    var claimFigures: [String] {
        let views = evaluation.testViews.map(\.rawValue)
        let gaps = [Gap.fg, .bg].filter { gap in [gap.views.from, gap.views.minus].allSatisfy { $0.map(views.contains) ?? true } }
        return views + (evaluation.testSets ?? []).map(\.name) + gaps.map(\.rawValue)
    }

    /// Decodes `claims:` from the spec's root reader; nil when absent (so a spec without claims
    /// keeps its canonical JSON and hash).
    /// - Parameters:
    ///   - spec: the decoded spec (its axes are what selectors may name).
    ///   - axes: the spec's checked sweep axes, whose keys and values selectors may name.
    static func decodeClaims(_ r: SpecReader, spec: ExperimentSpec, axes: [SweepAxis]) throws -> [Claim]? {
        guard let node = r.node("claims") else { return nil }
        guard case let .sequence(items, _) = node else {
            throw r.error("claims", "expected a list of claims, e.g. claims: [{name: …, metric: {…}, direction: greater, treatment: {…}, baseline: {…}}]")
        }
        var claims: [Claim] = []
        for (i, item) in items.enumerated() {
            let c = try SpecReader(item, path: "claims[\(i)]", origins: r.origins)
            guard let name = try c.string("name"), !name.isEmpty else { throw c.error("name", "every claim needs a name") }
            if claims.contains(where: { $0.name == name }) { throw c.error("name", "claim '\(name)' is named twice") }
            func fail(_ reader: SpecReader, _ key: String, _ message: String) -> SpecError {
                reader.error(key, "claim '\(name)': \(message)")
            }
            guard let m = try c.map("metric") else { throw fail(c, "metric", "needs a metric: {protocol: linear|knn, probe: …, testView: …}") }
            guard let protocolName = try m.string("protocol") else { throw fail(m, "protocol", "name the protocol: linear or knn") }
            guard ["linear", "knn"].contains(protocolName) else { throw fail(m, "protocol", "unknown protocol '\(protocolName)'; use linear, knn") }
            let probes = spec.evaluation.probeViews.map(\.description)
            let probe = try m.string("probe") ?? (probes.count == 1 ? probes[0] : nil)
            guard let probe else { throw fail(m, "probe", "the spec has several probe views (\(probes.joined(separator: ", "))); name one") }
            guard probes.contains(probe) else { throw fail(m, "probe", "unknown probe '\(probe)'; the spec's probe views: \(probes.joined(separator: ", "))") }
            let stat = try m.string("stat") ?? "top1"
            guard ["top1", "top5"].contains(stat) else { throw fail(m, "stat", "unknown stat '\(stat)'; use top1, top5") }
            let figures = spec.claimFigures
            func figure(_ reader: SpecReader) throws -> String? {
                guard let v = try reader.string("testView") else { return nil }
                guard figures.contains(v) else { throw fail(reader, "testView", "unknown test view '\(v)'; use \(figures.joined(separator: ", "))") }
                return v
            }
            let metricView = try figure(m)
            try m.finish()
            guard let directionText = try c.string("direction") else { throw fail(c, "direction", "state the direction: greater or less") }
            guard let direction = ClaimComparison(rawValue: directionText) else {
                throw fail(c, "direction", "unknown direction '\(directionText)'; use greater, less")
            }
            var groups: [CellSelector] = []
            for role in ["treatment", "baseline"] {
                guard let s = try c.map(role) else { throw fail(c, role, "needs a selector, e.g. {trainView: full, regularizer: none}") }
                groups.append(try decodeSelector(s, spec: spec, axes: axes, figure: figure, fail: { fail(s, $0, $1) }))
                try s.finish()
            }
            var testView = metricView ?? ""
            if metricView == nil {
                if let t = groups[0].testView, let b = groups[1].testView {
                    testView = t
                    if t == b { groups[0].testView = nil; groups[1].testView = nil }
                } else if figures.count == 1 {
                    testView = figures[0]
                } else {
                    throw fail(m, "testView", "the spec has several test views; name one (here or in both selectors)")
                }
            }
            for g in groups.indices where groups[g].testView == testView { groups[g].testView = nil }
            try c.finish()
            claims.append(Claim(name: name, metric: ClaimMetric(protocolName: protocolName, probe: probe, testView: testView, stat: stat),
                                direction: direction, treatment: groups[0], baseline: groups[1]))
        }
        return claims
    }

    /// One selector with every omitted coordinate filled in from the spec.
    static func decodeSelector(_ s: SpecReader, spec: ExperimentSpec, axes: [SweepAxis],
                               figure: (SpecReader) throws -> String?, fail: (String, String) -> SpecError) throws -> CellSelector {
        func only(_ key: String, _ values: [String]) throws -> String {
            guard values.count == 1 else { throw fail(key, "the spec has several values (\(values.joined(separator: ", "))); name one") }
            return values[0]
        }
        let method: String
        var regularizers: [String]
        if let control = try s.string("control") {
            let controls = spec.controls.map(\.rawValue)
            guard controls.contains(control) else {
                throw fail("control", "unknown control '\(control)'; the spec's controls: \(controls.isEmpty ? "none" : controls.joined(separator: ", "))")
            }
            if s.has("method") { throw fail("method", "give either a method or a control, not both") }
            method = control
            regularizers = [RegularizerSpec.none.name]
        } else {
            let methods = spec.methods.map(\.rawValue)
            let m = try s.string("method") ?? only("method", methods)
            guard let known = MethodName(rawValue: m), spec.methods.contains(known) else {
                throw fail("method", "unknown method '\(m)'; the spec's methods: \(methods.joined(separator: ", "))")
            }
            method = m
            regularizers = spec.regularizers.filter { $0.applies(to: known) }.map(\.name)
        }
        let regularizer = try s.string("regularizer") ?? only("regularizer", regularizers)
        guard regularizers.contains(regularizer) else {
            throw fail("regularizer", "unknown regularizer '\(regularizer)' for \(method); use \(regularizers.joined(separator: ", "))")
        }
        let views = spec.trainViews.map(\.rawValue)
        let trainView = try s.string("trainView") ?? only("trainView", views)
        guard views.contains(trainView) else { throw fail("trainView", "unknown train view '\(trainView)'; the spec's: \(views.joined(separator: ", "))") }
        var sweep: [String: String] = [:]
        if let m = try s.map("sweep") {
            for key in m.keys {
                guard let axis = axes.first(where: { $0.key == key }) else {
                    throw fail("sweep.\(key)", "not a sweep axis; the spec sweeps \(axes.isEmpty ? "nothing" : axes.map(\.key).joined(separator: ", "))")
                }
                guard let v = try m.string(key), axis.values.contains(v) else {
                    throw fail("sweep.\(key)", "use one of the swept values \(axis.values.joined(separator: ", "))")
                }
                sweep[key] = v
            }
        }
        for axis in axes where sweep[axis.key] == nil { sweep[axis.key] = try only("sweep.\(axis.key)", axis.values) }
        return CellSelector(method: method, regularizer: regularizer, trainView: trainView, testView: try figure(s), sweep: sweep)
    }
}
