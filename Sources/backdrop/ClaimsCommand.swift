import ArgumentParser
import Foundation
import Harness
import Reports
import ResultsStore

extension ClaimTable.Style: ExpressibleByArgument {}

/// `backdrop claims`: judge an experiment's stated claims (`claims:` of its spec), store the
/// verdicts and print them.
struct ClaimsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claims",
        abstract: "Judge an experiment's claims (claims: of its spec) with 95% intervals and Holm's correction; store and print the verdicts.",
        discussion: """
        The claims come from the spec the experiment was reproduced from (its stored text and --set overrides). Each claim \
        compares two groups of cells seed by seed when they share seeds (paired t-interval), else as independent samples \
        (Welch). The two-sided p-values are Holm-adjusted over the experiment's claims; a claim holds (or is contradicted) \
        when its interval excludes 0 on the stated (or the other) side and its adjusted p < 0.05, and is inconclusive \
        otherwise. The verdicts replace the experiment's rows of the claims table, which the report shows first.
        """)
    @Option(help: "Results database.") var db = "Results/backdrop.sqlite"
    @Option(help: ArgumentHelp(QueryOutputOptions.experimentHelp)) var experiment: String?
    @Option(help: "Output format: text, markdown or json.") var format: ClaimTable.Style = .text

    func run() throws {
        let store = try ResultsDatabase(path: db)
        let resolved = try store.resolveExperiment(experiment)
        guard !resolved.specSource.isEmpty else {
            throw ValidationError("experiment \(resolved.name) (id \(resolved.id)) has no stored spec to read claims from; reproduce it again")
        }
        let spec: ExperimentSpec
        do {
            let source = URL(fileURLWithPath: resolved.specPath.isEmpty ? resolved.name : resolved.specPath).lastPathComponent
            spec = try ExperimentSpec.parse(resolved.specSource, source: source, overrides: resolved.overrides)
        } catch let e as SpecError {
            throw ValidationError(e.description)
        }
        let records = try ClaimVerdicts.judgeAndStore(spec.claims ?? [], store: store, experimentID: resolved.id)
        if records.isEmpty && format != .json {
            print("experiment \(resolved.name) (id \(resolved.id)) states no claims")
            return
        }
        print(ClaimTable.rendered(records, style: format))
    }
}

/// Judging and storing claims, shared by `backdrop claims` and the end of `backdrop reproduce`.
enum ClaimVerdicts {
    /// Judges `claims` on the experiment's rows, replaces its stored verdicts and returns them.
    static func judgeAndStore(_ claims: [Claim], store: ResultsDatabase, experimentID: Int64) throws -> [ClaimRecord] {
        let judged = try ClaimJudge.judge(claims, store: store, experimentID: experimentID)
        let records = judged.enumerated().map { $0.element.record(experimentID: experimentID, position: $0.offset) }
        return try store.replaceClaims(experimentID: experimentID, with: records)
    }
}
