import Contrastive
import Evaluation
import Foundation
import ImageData
import NN
import TensorCore

/// Measures a model at epoch ends without changing it; `TrainingLoop.observer`.
///
/// An observer must leave training exactly as it found it: no parameter, buffer (batch-norm
/// running statistics, queue) or optimizer state changed, and no random stream that training
/// draws from consumed, so a run with an observer ends with bit-identical weights to one without.
public protocol EpochObserver: AnyObject {
    /// Whether the end of `epoch` (0-based) of a run of `epochs` is measured.
    func isDue(epoch: Int, epochs: Int) -> Bool
    /// The values measured after `epoch`, by metric key.
    func observe(epoch: Int) throws -> [String: Double]
}

/// The stratum–background check (`evaluation.epochDiagnostics`): at the end of every N-th epoch
/// and of the last one,
///
/// - `diag_background_reliance`: top-1 on the test split's `only-background` view of a linear
///   probe fitted on the train split's `probeView` (`BackgroundReliance`);
/// - `diag_full_accuracy`: the same probe's top-1 on the test split's `full` view;
/// - for ICL-MSR cells on a dataset with a generator manifest (`generator.json`, which records each
///   image's background family): every train image (full view, no augmentation) gets the stratum
///   `argmax_k cos(z, m_k)` of its compared vector `z` (`ContrastiveMethod.comparedVectors(of:)`,
///   `MetaSemanticRegularizer.assignStrata`), and
///   `diag_stratum_background_nmi` = NMI(stratum, background family),
///   `diag_stratum_class_nmi` = NMI(stratum, class) (the control: a stratum that follows the class
///   is not a background stratum), both with arithmetic-mean normalization
///   (`MutualInformation.normalized`);
/// - `diag_seconds`: the pass's wall-clock seconds.
///
/// Everything runs in `ForwardMode.eval` without gradients on unaugmented renderings, and draws
/// no random numbers, so training is not disturbed (see `EpochObserver`) and a resumed run
/// measures what an uninterrupted one does.
public final class EpochDiagnostics: EpochObserver {
    public static let backgroundRelianceKey = "diag_background_reliance"
    public static let fullAccuracyKey = "diag_full_accuracy"
    public static let stratumBackgroundKey = "diag_stratum_background_nmi"
    public static let stratumClassKey = "diag_stratum_class_nmi"
    public static let secondsKey = "diag_seconds"

    public let options: EpochDiagnosticsOptions
    let method: any ContrastiveMethod
    let regularizer: MetaSemanticRegularizer?
    let reliance: BackgroundReliance
    let train: ViewRenderer
    let test: ViewRenderer
    let normalization: Normalization
    /// Train samples assigned to strata, their background families and classes (nil families:
    /// the NMI is skipped, `strataSkipReason` says why).
    let strataSamples: [Int]
    let families: [Int]?
    /// Why the stratum NMIs are not measured (nil: they are).
    public let strataSkipReason: String?
    let progress: ProgressReporter?
    let batchSize = 256

    /// - Parameters:
    ///   - options: what to measure and when.
    ///   - stepper: the trained model (read only); its regularizer, when ICL-MSR's, holds the strata.
    ///   - train, test: the splits' renderers (the same as the final evaluation's).
    ///   - probe: the linear probe's settings (`evaluation.probe`).
    ///   - datasetRoot: where `generator.json` is looked for.
    ///   - progress: one line when built (what is measured, what is skipped and why) and one per pass.
    public init(options: EpochDiagnosticsOptions, stepper: any TrainingStepper, train: ViewRenderer, test: ViewRenderer,
                normalization: Normalization, probe: LinearProbe, datasetRoot: String, progress: ProgressReporter?) throws {
        self.options = options
        self.method = stepper.method
        self.regularizer = (stepper as? ICLMSRStepper)?.regularizer
        self.train = train
        self.test = test
        self.normalization = normalization
        self.progress = progress
        let trainIndices = options.sampleIndices(count: train.split.count)
        reliance = BackgroundReliance(probeView: options.probeView, probe: probe, trainIndices: trainIndices,
                                      testIndices: options.sampleIndices(count: test.split.count), batchSize: batchSize)
        strataSamples = trainIndices
        var reason: String? = nil
        var families: [Int]? = nil
        if regularizer == nil {
            reason = "the cell trains without ICL-MSR, so it has no strata"
        } else if let manifest = try SceneManifest.load(root: datasetRoot) {
            do {
                let all = try manifest.backgroundFamilies(of: train.split)
                families = trainIndices.map { all[$0] }
            } catch {
                reason = "the generator manifest does not cover the train split (\(error))"
            }
        } else {
            reason = "the dataset has no \(SceneManifest.fileName), so its background families are unknown "
                + "(only `backdrop dataset generate` records them)"
        }
        self.families = families
        strataSkipReason = reason
        let subset = options.images.map { " (at most \($0) images per split)" } ?? ""
        progress?.message("epoch diagnostics every \(options.every) epoch(s)\(subset): background reliance under a probe fitted on "
                          + "\(options.probeView.rawValue) train images; stratum–background NMI "
                          + (reason.map { "skipped: \($0)" } ?? "on \(trainIndices.count) train images"))
    }

    public func isDue(epoch: Int, epochs: Int) -> Bool { options.isDue(epoch: epoch, epochs: epochs) }

    public func observe(epoch: Int) throws -> [String: Double] {
        let started = Date()
        let r = try reliance.measure(backbone: method.backbone, train: train, test: test,
                                     normalization: normalization)
        var values = [Self.backgroundRelianceKey: r.onlyBackground, Self.fullAccuracyKey: r.full]
        var line = String(format: "epoch %d diagnostics: only-background %.1f%%, full %.1f%% (probe %@)",
                          epoch + 1, 100 * r.onlyBackground, 100 * r.full, options.probeView.rawValue)
        if let families, let regularizer {
            let strata = try assignStrata(regularizer)
            let classes = strataSamples.map { train.split.labels[$0] }
            values[Self.stratumBackgroundKey] = MutualInformation.normalized(strata, families)
            values[Self.stratumClassKey] = MutualInformation.normalized(strata, classes)
            line += String(format: "; NMI stratum–background %.3f, stratum–class %.3f",
                           values[Self.stratumBackgroundKey]!, values[Self.stratumClassKey]!)
        }
        let seconds = Date().timeIntervalSince(started)
        values[Self.secondsKey] = seconds
        progress?.message(line + String(format: " (%.1f s)", seconds))
        return values
    }

    /// The argmax stratum of every sample of `strataSamples` (full view, unaugmented).
    func assignStrata(_ regularizer: MetaSemanticRegularizer) throws -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(strataSamples.count)
        var start = 0
        while start < strataSamples.count {
            let end = min(start + batchSize, strataSamples.count)
            let images = BatchLoader.render(train, view: .full, indices: Array(strataSamples[start..<end]), normalization: normalization)
            out += regularizer.assignStrata(try method.comparedVectors(of: images))
            start = end
        }
        return out
    }
}
