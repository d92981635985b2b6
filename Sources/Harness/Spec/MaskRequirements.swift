import Evaluation
import Foundation
import ImageData

extension TrainConfig {
    /// What in this configuration needs foreground masks, as `(key, what)` pairs naming the
    /// configuration key: a train or test view other than `full`, a probe fitted on such a view,
    /// a background intervention, the epoch diagnostics (they probe the only-background view).
    /// Empty: the configuration runs on a dataset without masks.
    public func maskRequirements() -> [(key: String, what: String)] {
        var out: [(String, String)] = []
        if trainView != .full { out.append(("trainViews", "train view `\(trainView.rawValue)`")) }
        for v in evaluation.testViews where v != .full { out.append(("evaluation.testViews", "test view `\(v.rawValue)`")) }
        for p in evaluation.resolved(trainView: trainView.view).probeViews {
            switch p {
            case .view(let v) where v != .full: out.append(("evaluation.probeViews", "probe view `\(v.rawValue)`"))
            case .sameAsTest where evaluation.testViews.contains(where: { $0 != .full }):
                out.append(("evaluation.probeViews", "probe view `same-as-test`"))
            default: break
            }
        }
        if let intervention { out.append(("regularizers", "the `\(intervention.kind.rawValue)` intervention")) }
        if evaluation.epochDiagnostics != nil { out.append(("evaluation.epochDiagnostics", "the epoch diagnostics (only-background view)")) }
        return out
    }
}

extension ExperimentSpec {
    /// The keys that choose views, and whether the spec (or an override) stated them; views left
    /// at their defaults are narrowed to `full` on a dataset without masks.
    static let viewKeys = ["trainViews", "evaluation.testViews", "evaluation.probeViews"]

    /// The spec for a dataset whose labelled splits `withoutMasks` have no mask files: unchanged
    /// when every split has masks; otherwise views left at their defaults become `full` only, and
    /// anything stated that needs masks is refused, naming the key, the view and the splits.
    /// - Throws: `SpecError` before anything loads or trains.
    public func fitted(toSplitsWithoutMasks withoutMasks: [String], root: String) throws -> ExperimentSpec {
        guard !withoutMasks.isEmpty else { return self }
        var spec = self
        if !statedKeys.contains("trainViews") { spec.trainViews = [.full] }
        if !statedKeys.contains("evaluation.testViews") { spec.evaluation.testViews = [.full] }
        if !statedKeys.contains("evaluation.probeViews") { spec.evaluation.probeViews = [.view(.full)] }
        let splits = withoutMasks.map { "`\($0)`" }.joined(separator: " and ")
        for cell in spec.cells() {
            if let (key, what) = cell.config.maskRequirements().first {
                throw SpecError(location: root, key: key,
                                message: "\(what) needs foreground masks, but the \(splits) split(s) of \(root) have none "
                                    + "(only the `full` view exists); use only `full`, or add masks as <split>/masks/<class>/<image stem>.png")
            }
        }
        return spec
    }
}
