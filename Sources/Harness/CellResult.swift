import Evaluation
import Foundation

/// Everything one cell produced: the resolved configuration, per-epoch metrics and every
/// evaluation row. Encodes to the `backdrop train --json` document
/// `{"config": …, "metrics": [per-epoch summaries], "evaluations": [rows], …}`.
public struct CellResult: Codable, Sendable {
    public var config: TrainConfig
    public var metrics: [EpochSummary]
    public var evaluations: [EvaluationResult]
    /// Train and test split sizes and class count.
    public var trainImages: Int
    public var testImages: Int
    public var classes: [String]
    /// Bad samples skipped while loading (always 0 under the default `fail` policy).
    public var badSamples: Int
    /// Steps run in this process (0 when a finished checkpoint was found) and their seconds.
    public var stepsRun: Int
    public var trainingSeconds: Double
    public var evaluationSeconds: Double
    /// Whether training continued from a checkpoint.
    public var resumed: Bool

    /// The evaluation rows as an aligned text table (what `backdrop train` prints).
    public var evaluationTable: String { EvaluationTable.render(evaluations) }

    enum CodingKeys: String, CodingKey {
        case config, metrics, evaluations, classes, resumed
        case trainImages = "train_images", testImages = "test_images", badSamples = "bad_samples"
        case stepsRun = "steps_run", trainingSeconds = "training_seconds", evaluationSeconds = "evaluation_seconds"
    }
}
