import ArgumentParser
import CommandLineOptions
import Foundation
import Harness
import ImageData

/// `backdrop train`: one cell end to end (train, then evaluate on every test view).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train one contrastive model on a dataset folder and evaluate it on every test view.",
        discussion: """
        Trains METHOD (optionally with the ICL-MSR regularizer) on the train split rendered in the train view, \
        printing a progress line (step, loss, images/s, ETA) on stderr, then evaluates the frozen backbone with a \
        linear probe and a cosine kNN on the test split in the views full, foreground, only-background, mixed-same \
        and mixed-random. With --checkpoint-dir an interrupted run resumes where it stopped, bit-identically. \
        Every option is a key of an experiment spec (docs/Training.md): the flags below set the common ones, \
        --set key.path=value any other (e.g. --set iclmsr.metaOptimizer.kind=adam, --set dataset.maskFormat=soft).
        """)

    @Option(help: "Dataset folder holding train/ and test/ (see `backdrop dataset generate`).") var data: String
    @Option(help: "simclr, mocov2, byol, simsiam or barlowtwins.") var method = "simclr"
    @Option(help: "none, icl-msr, background-swap or background-remove; a variant by --set, e.g. --set 'regularizers=[{name: background-swap-hn, kind: background-swap, hardNegatives: true}]' (same-background hard negatives, simclr and mocov2).") var regularizer = "none"
    @Option(help: "Training view: full, foreground or foreground-crop (the mask's bounding box stretched to the image size).") var trainView = "full"
    @Option(help: "Training epochs (default 20).") var epochs: Int?
    @Option(help: "Images per batch (at least 2; default 128).") var batchSize: Int?
    @Option(help: "Base learning rate per 256 images (default: the method's solo-learn recipe).") var lr: Float?
    @Option(help: "Optimizer: sgd, lars or adamw (default: the method's recipe).") var optimizer: String?
    @Option(help: "Weight decay (default: the method's recipe).") var weightDecay: Float?
    @Option(help: "Linear warm-up epochs (default: 10% of the run, at most 10).") var warmupEpochs: Double?
    @Option(help: "Seed of initialization, shuffling and augmentation.") var seed: UInt64 = 0
    @Option(help: "Backbone: small-resnet or resnet18.") var backbone: String?
    @Option(help: "Backbone width (channels of the first stage; default 16).") var width: Int?
    @Option(help: "Image side the dataset is resized to (default 32).") var imageSize: Int?
    @Option(help: "Augmentation preset: symmetric, symmetric_weak, asymmetric or quick (default: the method's; quick: short CPU runs, see docs/Training.md).") var preset: String?
    @Option(help: "Fill of removed pixels in foreground / only-background views: gray, mean, black or noise.") var fill: String?
    @Option(help: "Folder for checkpoint.safetensors; an existing checkpoint of the same configuration is resumed.") var checkpointDir: String?
    @Option(help: "Write {config, metrics, evaluations} as JSON to this file.") var json: String?
    @Option(help: "Folder of the packed dataset cache (decoded splits, reused by later runs).") var cacheDir = "Results/datasets/cache"
    @Flag(help: "Decode the dataset without reading or writing the packed cache.") var noCache = false
    @Option(name: .customLong("set"), help: "Set any configuration key: key.path=value (repeatable, applied after the flags), e.g. --set train.fill=noise.")
    var overrides: [String] = []
    @Flag(help: "No progress lines.") var quiet = false
    @OptionGroup var threads: ThreadsOption
    @Option(help: "Record the run in this results database like a matrix cell (metrics, evaluations, provenance); an identical finished run is reused.")
    var db: String?
    @Option(help: "With --db: the ad-hoc experiment the run is recorded in (one experiment per name; each cell key once).")
    var experiment = "train"

    // Method options (nil: the method's default scaled to the backbone width).
    @Option(help: "Temperature (simclr, mocov2).") var temperature: Float?
    @Option(help: "Projector hidden width.") var projectorHidden: Int?
    @Option(help: "Projector output width.") var projectorOutput: Int?
    @Option(help: "Predictor hidden width (byol, simsiam).") var predictorHidden: Int?
    @Option(help: "MoCo v2 queue length (default: min(4096, whole batches in the train split)).") var queueSize: Int?
    @Option(help: "EMA τ at the first step (byol, mocov2).") var emaBase: Float?
    @Option(help: "EMA τ at the last step (byol, mocov2).") var emaFinal: Float?
    @Option(help: "Barlow Twins off-diagonal weight λ.") var lambda: Float?
    @Option(help: "Barlow Twins loss scale.") var scale: Float?

    // ICL-MSR options (only with --regularizer icl-msr).
    @Option(help: "ICL-MSR: number of strata K.") var msrStrata: Int?
    @Option(help: "ICL-MSR: weight λ of L_MSR.") var msrWeight: Float?
    @Option(help: "ICL-MSR: prior, learned or uniform.") var msrPrior: String?
    @Option(help: "ICL-MSR: injection, additive or gated.") var msrInjection: String?
    @Option(help: "ICL-MSR: init scale σ of the strata.") var msrStrataScale: Float?
    @Option(help: "ICL-MSR: virtual step size α (default: the encoder's current lr).") var msrVirtualLr: Float?
    @Option(help: "ICL-MSR: finite-difference radius r.") var msrFdRadius: Float?
    @Option(help: "ICL-MSR: meta step every N iterations.") var msrMetaInterval: Int?
    @Option(help: "ICL-MSR: meta optimizer, sgd or adam.") var msrMetaOptimizer: String?
    @Option(help: "ICL-MSR: meta learning rate.") var msrMetaLr: Float?
    @Option(help: "ICL-MSR: meta SGD momentum.") var msrMetaMomentum: Float?
    @Option(help: "ICL-MSR: meta weight decay.") var msrMetaWeightDecay: Float?
    @Option(help: "ICL-MSR: where the virtual step's gradient is taken, shared or recomputed.") var msrMetaGradient: String?
    @Option(help: "ICL-MSR: the meta step's finite difference, central (two encoder forwards) or reflected (one; O(ε) error).")
    var msrFiniteDifference: String?
    @Option(help: "ICL-MSR: meta-learning of the strata, bilevel or frozen (no meta step).") var msrMeta: String?
    @Option(help: "ICL-MSR: form of L_MSR, arithmetic-mean or geometric-mean (simclr, mocov2).") var msrForm: String?

    // Evaluation.
    @Option(help: "Views of the train split the probes and kNN banks are fitted on: a list of train-view, same-as-test, full, foreground, … (default: [train-view, full, foreground]).") var probeViews: String?
    @Option(help: "kNN neighbours (default 20).") var knnK: Int?
    @Option(help: "kNN vote temperature (default 0.07).") var knnTemperature: Float?
    @Option(help: "Linear-probe weight decay λ (penalty λ/2‖W‖²; default 1e-4).") var probeWeightDecay: Double?
    @Option(name: .customLong("test-set"), help: "A named test set NAME=FOLDER (repeatable): FOLDER/<class>/<image> evaluated as is beside the test views, e.g. --test-set in9-mixed-rand=in9/testsets/in9-mixed-rand (evaluation.testSets).")
    var testSets: [String] = []

    /// Every flag that sets a configuration key, with that key: the one place this command spells
    /// spec keys as flags. Errors about a key name the flag that set it.
    var flagKeys: [(flag: String, key: String, value: (any CustomStringConvertible)?)] {
        [("--method", "methods", method), ("--train-view", "trainViews", trainView), ("--seed", "seeds", seed),
         ("--regularizer", "regularizers", regularizer),
         ("--epochs", "train.epochs", epochs), ("--batch-size", "train.batchSize", batchSize), ("--preset", "train.augmentation", preset),
         ("--fill", "train.fill", fill), ("--backbone", "model.backbone", backbone), ("--width", "model.width", width),
         ("--image-size", "imageSize", imageSize), ("--optimizer", "optimizer.kind", optimizer), ("--lr", "optimizer.lr", lr),
         ("--weight-decay", "optimizer.weightDecay", weightDecay), ("--warmup-epochs", "schedule.warmupEpochs", warmupEpochs),
         ("--temperature", "methodOptions.\(method).temperature", temperature),
         ("--projector-hidden", "methodOptions.\(method).projectorHidden", projectorHidden),
         ("--projector-output", "methodOptions.\(method).projectorOutput", projectorOutput),
         ("--predictor-hidden", "methodOptions.\(method).predictorHidden", predictorHidden),
         ("--queue-size", "methodOptions.\(method).queueSize", queueSize), ("--ema-base", "methodOptions.\(method).emaBase", emaBase),
         ("--ema-final", "methodOptions.\(method).emaFinal", emaFinal), ("--lambda", "methodOptions.\(method).lambda", lambda),
         ("--scale", "methodOptions.\(method).scale", scale),
         ("--msr-strata", "iclmsr.strata", msrStrata), ("--msr-weight", "iclmsr.weight", msrWeight), ("--msr-prior", "iclmsr.prior", msrPrior),
         ("--msr-injection", "iclmsr.injection", msrInjection), ("--msr-strata-scale", "iclmsr.strataScale", msrStrataScale),
         ("--msr-virtual-lr", "iclmsr.virtualLR", msrVirtualLr), ("--msr-fd-radius", "iclmsr.fdRadius", msrFdRadius),
         ("--msr-meta-interval", "iclmsr.metaInterval", msrMetaInterval), ("--msr-meta-optimizer", "iclmsr.metaOptimizer.kind", msrMetaOptimizer),
         ("--msr-meta-lr", "iclmsr.metaOptimizer.lr", msrMetaLr), ("--msr-meta-momentum", "iclmsr.metaOptimizer.momentum", msrMetaMomentum),
         ("--msr-meta-weight-decay", "iclmsr.metaOptimizer.weightDecay", msrMetaWeightDecay),
         ("--msr-meta-gradient", "iclmsr.metaGradient", msrMetaGradient), ("--msr-meta", "iclmsr.meta", msrMeta),
         ("--msr-form", "iclmsr.form", msrForm), ("--msr-finite-difference", "iclmsr.finiteDifference", msrFiniteDifference),
         ("--probe-views", "evaluation.probeViews", probeViews), ("--knn-k", "evaluation.knn.k", knnK),
         ("--knn-temperature", "evaluation.knn.temperature", knnTemperature),
         ("--probe-weight-decay", "evaluation.probe.weightDecay", probeWeightDecay)]
    }

    /// `--test-set NAME=FOLDER` as `evaluation.testSets.NAME` assignments (the folder quoted).
    func testSetAssignments() throws -> [(flag: String, key: String, value: String)] {
        try testSets.map { given in
            guard let eq = given.firstIndex(of: "="), eq != given.startIndex, given.index(after: eq) != given.endIndex else {
                throw ValidationError("--test-set \(given): expected NAME=FOLDER, e.g. --test-set in9-mixed-rand=in9/testsets/in9-mixed-rand")
            }
            let name = String(given[..<eq]), folder = String(given[given.index(after: eq)...])
            let quoted = String(decoding: try JSONEncoder().encode(folder), as: UTF8.self)
            return ("--test-set", "evaluation.testSets.\(name)", quoted)
        }
    }

    /// The run's configuration, or a `ValidationError` naming the flag (or `--set`) at fault.
    func makeCell() throws -> SingleCellSpec {
        let given = flagKeys.compactMap { f in f.value.map { (f.flag, f.key, $0.description) } } + (try testSetAssignments())
        if regularizer != "icl-msr", let msr = given.first(where: { $0.1.hasPrefix("iclmsr.") }) {
            throw ValidationError("\(msr.0) applies only with --regularizer icl-msr")
        }
        do {
            return try SingleCellSpec(folder: data, assignments: given.map { "\($0.1)=\($0.2)" } + overrides)
        } catch let e as SpecError {
            // The last assignment of the key wins, so it is the one to blame: a --set, else a flag.
            let sets = { (assignment: String) in assignment.hasPrefix(e.key + "=") || assignment.hasPrefix(e.key + ".") }
            if let o = overrides.last(where: { e.location == "--set \($0)" || sets($0) }) {
                throw ValidationError("--set \(o): \(e.key.isEmpty ? "" : "\(e.key): ")\(e.message)")
            }
            if let f = given.last(where: { e.key == $0.1 || e.key.hasPrefix($0.1 + ".") || e.key.hasPrefix($0.1 + "[") }) {
                throw ValidationError("\(f.0): \(e.message)")
            }
            throw ValidationError(e.description)
        }
    }

    func validate() throws { _ = try makeCell() }

    /// The spec's dataset options with the packed cache (unless `--no-cache`).
    func datasetOptions(_ single: SingleCellSpec) throws -> DatasetOptions {
        var options = try single.spec.dataset.options(size: single.cell.config.imageSize)
        options.cacheDirectory = noCache ? nil : cacheDir
        return options
    }

    func run() throws {
        try threads.configure()
        let single = try makeCell()
        if let db {
            if json != nil { throw ValidationError("--json is not available with --db: read the run with backdrop runs / matrix / query") }
            return try runRecorded(single, database: db)
        }
        let result: CellResult
        let stop = StopRequest()
        let ctrlC = CtrlCHandler(stop, announce: "stopping after the current step" + (checkpointDir == nil ? "" : " (a checkpoint is written)")
                                 + "; Ctrl-C again to quit at once")
        defer { ctrlC.cancel() }
        do {
            result = try TrainingCell.run(single.cell.config, checkpointDirectory: checkpointDir, progress: quiet ? nil : ProgressReporter(),
                                          datasetOptions: datasetOptions(single), stop: stop)
        } catch let e as TrainingInterrupted where e.requested {
            Self.note(checkpointDir == nil ? "\(e); no --checkpoint-dir was given, so there is nothing to resume"
                                           : "\(e)\nresume with: \(ThisCommand.line)")
            throw ExitCode(MatrixRunner.ChildStatus.interrupted)
        } catch let e as InvalidOption {
            throw ValidationError(flagKeys.first { $0.key == e.key }.map { "\($0.flag): \(e.message)" } ?? "--set \(e.description)")
        }
        print(result.evaluationTable)
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(fileURLWithPath: json))
            print("wrote \(json)")
        }
    }
}
