import Foundation
import ResultsStore

/// An experiment's whole report: the matrix under each probe series that has rows — by default
/// the fixed probe fitted on full images, the fixed probe fitted on foregrounds (the same probe
/// for every encoder, so differences between encoders are the encoders'), then the probe fitted
/// on each cell's train view — rendered into one document per format.
///
/// Pure function of the database content, like `Report`.
public struct ExperimentReport: Sendable {
    /// One report per probe series with rows, in `series` order (the first part when none has).
    public let parts: [Report]
    /// The experiment's judged claims as last stored (`backdrop claims`, `backdrop reproduce`),
    /// shown first; empty when it has none.
    public let claims: [ClaimRecord]
    /// Spec, overrides, builds, machines, libraries and one line per run (last in every format).
    let provenance: ProvenanceSection

    /// - Parameters:
    ///   - experiment: the experiment's name (latest of that name), or nil for the latest.
    ///   - series: the probe series, in reading order.
    public init(store: ResultsDatabase, experiment name: String?, options: ReportOptions = ReportOptions(),
                series: [ProbeSeries] = ProbeSeries.reported) throws {
        var parts: [Report] = []
        for probe in series {
            var o = options
            o.probe = probe
            parts.append(try Report(store: store, experiment: name, options: o))
        }
        let withRows = parts.filter { !$0.rows.isEmpty }
        self.parts = withRows.isEmpty ? Array(parts.prefix(1)) : withRows
        claims = try store.claims(experimentID: self.parts[0].experiment.id)
        provenance = try ProvenanceSection(store: store, experiment: self.parts[0].experiment, runs: self.parts[0].runs)
    }

    var first: Report { parts[0] }

    /// How a part's heading reads.
    static func heading(_ report: Report) -> String {
        switch report.options.probe {
        case .fixed(let view): return "Fixed probe: fitted on \(view) images for every encoder"
        case .trainView: return "Probe fitted on each cell's train view (what the encoder and the probe learnt together)"
        case .sameAsTest: return "Probe fitted on each test view"
        }
    }

    /// What the probe series mean, once at the top.
    static let guide = "How to read: under a fixed probe every encoder is read out by a classifier fitted on the same view "
        + "of the train split, so a difference between rows is the encoders'. Under the train-view probe the classifier also "
        + "adapts to the train view, so a pattern there can come from the probe alone — compare it with the `untrained` "
        + "control rows (the seed-matched initial encoder, measured the same way) and read the encoder-effect tables "
        + "(trained − untrained, paired by seed)."

    /// `table.md`.
    public var markdown: String {
        var out = "# Backdrop results: \(first.experiment.name)\n\n\(first.header)\n" + ClaimTable.markdownSection(claims)
        out += "\n\(Self.guide)\n"
        for part in parts {
            out += "\n## \(Self.heading(part))\n\n\(part.legend)\n" + part.markdownSections(level: 3)
        }
        if first.hasEpochDiagnostics {
            out += "\n## Stratum–background check (per epoch)\n\n\(Report.epochDiagnosticsGuide)\n\n" + first.epochDiagnosticsMarkdown
        }
        return out
    }

    /// `provenance.md`: where every number of `table.md` came from (kept apart so that `table.md`
    /// holds only results and reads the same wherever and whenever they were computed).
    public var provenanceMarkdown: String {
        "# Provenance: \(first.experiment.name)\n" + provenance.markdown(level: 2)
    }

    /// `table.csv`: `Report.csv`'s columns after a first column `probe` (the series).
    public var csv: String {
        var lines: [String] = []
        for part in parts {
            let rows = part.csv.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
            if lines.isEmpty, let header = rows.first { lines.append("probe," + header) }
            lines += rows.dropFirst().map { Format.csv(part.options.probe.rawValue) + "," + $0 }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `table.tex`: each series' tables under a comment naming it.
    public var latex: String {
        var out = "% Backdrop results: \(Format.tex(first.experiment.name)); needs \\usepackage{booktabs}\n"
        for part in parts {
            out += "\n% \(Self.heading(part))\n"
            for (_, tables) in part.tables() { for table in tables { out += "\n" + table.latex + "\n" } }
        }
        return out
    }

    /// `report.html`: self-contained (inline CSS and SVG, no scripts, no network).
    public var html: String {
        let r = first
        var body: [String] = []
        body.append("<h1>Backdrop results: \(Format.html(r.experiment.name))</h1>")
        body.append("<p class=\"meta\">\(Format.html(r.header.replacingOccurrences(of: "`", with: "")))\(r.dataAsOf.map { " Data as of \($0) (UTC)." } ?? "")</p>")
        body += ClaimTable.htmlSection(claims)
        body.append("<p class=\"legend\">\(Format.html(Self.guide.replacingOccurrences(of: "`", with: "")))</p>")
        for part in parts {
            body.append("<h1>\(Format.html(Self.heading(part)))</h1>")
            body.append("<p class=\"legend\">\(Format.html(part.legend))</p>")
            body += part.htmlSections()
        }
        body.append("<h2>Training curves</h2>")
        body.append("<figure>\n" + r.lossCurvesSVG() + "</figure>")
        if r.hasLearningRateOrSimilarity { body.append("<figure>\n" + r.learningRateAndSimilaritySVG() + "</figure>") }
        if r.hasEpochDiagnostics {
            body.append("<h2>Stratum–background check</h2>")
            body.append("<p class=\"legend\">\(Format.html(Report.epochDiagnosticsGuide))</p>")
            body.append("<figure>\n" + r.backgroundRelianceSVG() + "</figure>")
            if !r.diagnosticGroups(EpochDiagnosticKey.stratumBackground).isEmpty {
                body.append("<figure>\n" + r.stratumAlignmentSVG() + "</figure>")
            }
        }
        body += provenance.html
        return Report.htmlDocument(title: "Backdrop results: \(r.experiment.name)", body: body)
    }
}
