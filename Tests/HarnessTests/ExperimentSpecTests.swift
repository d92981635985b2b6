import Contrastive
import Foundation
import ImageData
import Testing
@testable import Harness

/// A small valid spec; line numbers below refer to this text.
let sampleSpec = """
name: sample
dataset:
  builtin: {classes: 3, perClass: 8, testPerClass: 4, size: 32, seed: 1}
model: {backbone: small-resnet, width: 4}
methods: [simclr]
methodOptions:
  simclr: {projectorHidden: 16, projectorOutput: 8}
regularizers: [none, icl-msr]
trainViews: [full, foreground]
seeds: [0, 1]
train:
  epochs: 2
  batchSize: 8
"""

@Suite struct ExperimentSpecTests {
    @Test func parsesEveryBlock() throws {
        let spec = try ExperimentSpec.parse(sampleSpec, source: "sample.yaml")
        #expect(spec.name == "sample" && spec.model.width == 4 && spec.train.epochs == 2 && spec.train.batchSize == 8)
        #expect(spec.dataset.builtin?.classes == 3 && spec.dataset.folder == nil)
        #expect(spec.regularizers.map(\.name) == ["none", "icl-msr"] && spec.regularizers[1].iclmsr != nil)
        #expect(spec.methodOptions["simclr"]?.projectorHidden == 16)
    }

    @Test(arguments: [
        ("train:\n  epochs: 2\n  epoch: 3\n", "sample.yaml:3", "train.epoch", "unknown key"),
        ("train:\n  epochs: many\n", "sample.yaml:2", "train.epochs", "expected an integer"),
        ("train:\n  epochs: 0\n", "sample.yaml:2", "train.epochs", "at least 1"),
        ("methods: [simclr, swav]\n", "sample.yaml:1", "methods", "unknown value 'swav'"),
        ("regularizers: [none, dropout]\n", "sample.yaml:1", "regularizers[1]", "unknown regularizer"),
        ("methodOptions:\n  simclr:\n    temperature: -1\n", "sample.yaml:3", "methodOptions.simclr.temperature", "must be finite"),
        ("methodOptions:\n  simclr:\n    queueSize: 64\n", "sample.yaml:3", "methodOptions.simclr.queueSize", "does not apply"),
        ("iclmsr:\n  strata: 0\n", "sample.yaml:2", "iclmsr.strata", "K must be at least 1"),
        ("dataset:\n  builtin: {classes: 99}\n", "sample.yaml:2", "dataset.builtin.classes", "invalid value 99"),
        ("trainViews: [mixed-same]\n", "sample.yaml:1", "trainViews", "unknown value"),
        ("iclmsr:\n  metaOptimizer: {kind: adam, momentum: 0.5}\n", "sample.yaml:2", "iclmsr.metaOptimizer.momentum", "only to the sgd"),
        ("regularizers: [none, {name: k0, strata: 0}]\n", "sample.yaml:1", "regularizers[1].strata", "K must be at least 1"),
        ("optimizer: {lr: -1}\n", "sample.yaml:1", "optimizer.lr", "must be finite"),
        ("optimizer: {kind: adam}\n", "sample.yaml:1", "optimizer.kind", "unknown value 'adam'"),
        ("evaluation:\n  knn: {temperature: 0}\n", "sample.yaml:2", "evaluation.knn.temperature", "must be finite"),
        ("model: {backbone: vit}\n", "sample.yaml:1", "model.backbone", "unknown value 'vit'"),
        ("seeds: [0, zero]\n", "sample.yaml:1", "seeds", "non-negative integers"),
    ])
    func errorsNameTheKeyAndLine(text: String, location: String, key: String, message: String) {
        do {
            _ = try ExperimentSpec.parse("name: bad\n" + text, source: "sample.yaml")
            Issue.record("expected an error for \(text)")
        } catch let e as SpecError {
            // Line numbers count the prepended `name:` line.
            let line = Int(location.split(separator: ":")[1])! + 1
            #expect(e.location == "sample.yaml:\(line)", "\(e)")
            #expect(e.key == key, "\(e)")
            #expect(e.message.contains(message), "\(e)")
            #expect(e.description.hasPrefix("sample.yaml:\(line): \(key): "))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func missingNameIsAnError() {
        #expect(throws: SpecError.self) { try ExperimentSpec.parse("seeds: [0]\n", source: "s.yaml") }
    }

    @Test func overridesReplaceAndAddValues() throws {
        let spec = try ExperimentSpec.parse(sampleSpec, source: "sample.yaml",
                                            overrides: ["train.epochs=5", "seeds=[3, 4, 5]", "iclmsr.strata=4", "regularizers.1=icl-msr",
                                                        "optimizer.lr=0.1"])
        #expect(spec.train.epochs == 5 && spec.seeds == [3, 4, 5] && spec.regularizers[1].iclmsr?.strata == 4)
        #expect(spec.cells().allSatisfy { $0.config.optimizer?.baseLearningRate == 0.1 })
    }

    @Test func badOverridesNameTheAssignment() {
        for (assignment, key) in [("train.epochs=abc", "train.epochs"), ("train.epoks=3", "train.epoks"), ("seeds.7=1", "seeds.7")] {
            do {
                _ = try ExperimentSpec.parse(sampleSpec, source: "sample.yaml", overrides: [assignment])
                Issue.record("expected an error for --set \(assignment)")
            } catch let e as SpecError {
                #expect(e.location == "--set \(assignment)", "\(e)")
                #expect(e.key == key, "\(e)")
            } catch { Issue.record("unexpected \(error)") }
        }
        #expect(throws: SpecError.self) { try ExperimentSpec.parse(sampleSpec, source: "s.yaml", overrides: ["novalue"]) }
    }

    @Test func matrixExpandsEveryCellWithStableKeys() throws {
        let spec = try ExperimentSpec.parse(sampleSpec, source: "sample.yaml")
        let cells = spec.cells()
        #expect(cells.count == 2 * 2 * 2)
        #expect(Set(cells.map(\.key)).count == cells.count)
        #expect(cells.first?.key == "full/simclr/none/seed0")
        #expect(cells.map(\.key).contains("foreground/simclr/icl-msr/seed1"))
        #expect(cells.map(\.index) == Array(0..<8))
        // Seed-major order: every condition of seed 0 comes first.
        #expect(cells.prefix(4).allSatisfy { $0.seed == 0 })
        for c in cells {
            #expect(c.config.trainView == c.trainView && c.config.seed == c.seed && c.config.train.epochs == 2)
            #expect((c.config.iclmsr == nil) == (c.regularizer == "none"))
            #expect(c.config.train.augmentation == .symmetric && c.config.optimizer != nil && c.config.evaluation.probeViews.first == .view(c.trainView.view))
        }
    }

    @Test func interventionsAreRegularizers() throws {
        let spec = try ExperimentSpec.parse(sampleSpec, source: "sample.yaml", overrides: [
            "regularizers=[none, background-swap, {name: bg-remove-p0.2, kind: background-remove, probability: 0.2}]"])
        let cells = spec.cells().filter { $0.seed == 0 && $0.trainView == .full }
        #expect(cells.map(\.regularizer) == ["none", "background-swap", "bg-remove-p0.2"])
        #expect(cells[0].config.intervention == nil && cells[0].config.iclmsr == nil)
        #expect(cells[1].config.intervention == BackgroundIntervention(kind: .swap, probability: 0.5) && cells[1].config.iclmsr == nil)
        #expect(cells[2].config.intervention == BackgroundIntervention(kind: .remove, probability: 0.2))
        do {
            _ = try ExperimentSpec.parse(sampleSpec, source: "sample.yaml", overrides: ["regularizers=[none, {name: b, kind: background-swap, probability: 2}]"])
            Issue.record("a probability of 2 was accepted")
        } catch let e as SpecError {
            #expect(e.key == "regularizers[1].probability" && e.message.contains("[0, 1]"), "\(e)")
        }
        #expect(throws: SpecError.self) {
            try ExperimentSpec.parse(sampleSpec, source: "s.yaml", overrides: ["regularizers=[none, {name: b, kind: background-swap, strata: 4}]"])
        }
    }

    @Test func controlsAddSeedMatchedUntrainedCells() throws {
        let cells = try ExperimentSpec.parse(sampleSpec + "\ncontrols: [untrained]\n", source: "sample.yaml").cells()
        #expect(cells.count == 2 * (2 * 2 + 2))
        let controls = cells.filter { $0.config.control == .untrained }
        #expect(controls.map(\.key) == ["full/untrained/none/seed0", "foreground/untrained/none/seed0",
                                         "full/untrained/none/seed1", "foreground/untrained/none/seed1"])
        #expect(controls.allSatisfy { $0.runCell.method == "untrained" && $0.runCell.regularizer == "none" && $0.config.iclmsr == nil })
        // Each seed's controls come before its trained cells.
        #expect(cells.prefix(2).allSatisfy { $0.config.control == .untrained && $0.seed == 0 })
        #expect(throws: SpecError.self) { try ExperimentSpec.parse(sampleSpec + "\ncontrols: [supervised]\n", source: "s.yaml") }
    }

    @Test func configHashIsStableAndSensitive() throws {
        let a = try ExperimentSpec.parse(sampleSpec, source: "a.yaml").cells()
        // Reordering the lists and restating defaults changes neither the keys nor the hashes.
        let reordered = sampleSpec.replacingOccurrences(of: "trainViews: [full, foreground]", with: "trainViews: [foreground, full]")
            .replacingOccurrences(of: "seeds: [0, 1]", with: "seeds: [1, 0]\nimageSize: 32\npartnerSeed: 0")
        let b = try ExperimentSpec.parse(reordered, source: "b.yaml").cells()
        let hashes = Dictionary(uniqueKeysWithValues: a.map { ($0.key, $0.configSHA256) })
        #expect(b.allSatisfy { hashes[$0.key] == $0.configSHA256 })
        #expect(a[0].configSHA256.count == 64 && a[0].configSHA256 == a[0].configSHA256)
        // Any resolved value that matters changes the hash.
        let c = try ExperimentSpec.parse(sampleSpec, source: "a.yaml", overrides: ["train.epochs=3"]).cells()
        #expect(zip(a, c).allSatisfy { $0.key == $1.key && $0.configSHA256 != $1.configSHA256 })
        // The canonical JSON has sorted keys and the resolved recipe.
        #expect(a[0].configJSON.contains("\"optimizer\":{\"excludeBiasAndNorm\":true,\"kind\":\"lars\",\"larsClip\":true,\"larsEta\":0.02,\"lr\":0.4"))
        #expect(a[0].configJSON.hasPrefix("{\"dataset\""))
    }

    @Test func shippedSpecsParse() throws {
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { dir.deleteLastPathComponent() }
        let experiments = dir.appendingPathComponent("Experiments")
        let quick = try ExperimentSpec.load(path: experiments.appendingPathComponent("table1-quick.yaml").path)
        #expect(quick.methods == [.simclr] && quick.seeds.count >= 3 && quick.cells().count == (6 + 2) * quick.seeds.count && quick.controls == [.untrained])
        let full = try ExperimentSpec.load(path: experiments.appendingPathComponent("table1-full.yaml").path)
        #expect(full.methods.count == 5)
        let ablation = try ExperimentSpec.load(path: experiments.appendingPathComponent("ablation-iclmsr.yaml").path)
        #expect(Set(ablation.regularizers.compactMap { $0.iclmsr?.strata }).count >= 3)
        #expect(ablation.regularizers.contains { $0.iclmsr?.prior == .uniform })
        #expect(ablation.regularizers.contains { $0.iclmsr?.meta == .frozen })
        #expect(ablation.regularizers.contains { $0.iclmsr?.form == .geometricMean })
        // The default schedule (a meta step every 3rd iteration) beside the design's (every iteration).
        #expect(ablation.regularizers.first { $0.name == "icl-msr" }?.iclmsr?.metaInterval == 3)
        #expect(ablation.regularizers.first { $0.name == "icl-msr-every-step" }?.iclmsr?.metaInterval == 1)
        #expect(Set(ablation.regularizers.compactMap { $0.iclmsr?.weight }).count >= 4)
    }

    /// ICL-MSR's ablation keys `meta` and `form`: as regularizer variants, as `--set`
    /// assignments, and refused with the key named (an unknown value; a form the method lacks).
    @Test func iclmsrAblationKeys() throws {
        let variants = sampleSpec.replacingOccurrences(
            of: "regularizers: [none, icl-msr]",
            with: "regularizers: [none, icl-msr, {name: icl-msr-frozen, meta: frozen}, {name: icl-msr-geometric, form: geometric-mean}]")
        let spec = try ExperimentSpec.parse(variants, source: "sample.yaml")
        #expect(spec.regularizers.compactMap { $0.iclmsr.map { "\($0.meta.rawValue)/\($0.form.rawValue)" } }
                == ["bilevel/arithmetic-mean", "frozen/arithmetic-mean", "bilevel/geometric-mean"])
        let assignments = ["methods=simclr", "trainViews=full", "seeds=0", "regularizers=icl-msr", "iclmsr.meta=frozen", "iclmsr.form=geometric-mean"]
        let cell = try SingleCellSpec(folder: "data", assignments: assignments).cell
        #expect(cell.config.iclmsr?.meta == .frozen && cell.config.iclmsr?.form == .geometricMean)
        // finiteDifference: central by default and absent from the stored configuration (hashes
        // of earlier runs unchanged); reflected when asked for, and stored.
        let central = try SingleCellSpec(folder: "data", assignments: Array(assignments.prefix(4))).cell
        let reflected = try SingleCellSpec(folder: "data", assignments: Array(assignments.prefix(4)) + ["iclmsr.finiteDifference=reflected"]).cell
        #expect(central.config.iclmsr?.finiteDifference == .central && reflected.config.iclmsr?.finiteDifference == .reflected)
        let encoder = JSONEncoder()
        #expect(!String(decoding: try encoder.encode(central.config.iclmsr), as: UTF8.self).contains("finiteDifference"))
        #expect(String(decoding: try encoder.encode(reflected.config.iclmsr), as: UTF8.self).contains("\"finiteDifference\":\"reflected\""))
        for (text, key, message) in [("iclmsr: {meta: none}\n", "iclmsr.meta", "unknown value 'none'"),
                                     ("iclmsr: {finiteDifference: forward}\n", "iclmsr.finiteDifference", "unknown value 'forward'"),
                                     ("iclmsr: {form: harmonic}\n", "iclmsr.form", "unknown value 'harmonic'"),
                                     ("methods: [byol]\niclmsr: {form: geometric-mean}\nregularizers: [icl-msr]\n", "iclmsr.form", "simclr or mocov2")] {
            #expect { _ = try ExperimentSpec.parse("name: bad\n" + text, source: "bad.yaml") } throws: { error in
                guard let e = error as? SpecError else { return false }
                return e.key == key && e.message.contains(message)
            }
        }
    }
}

extension ExperimentSpecTests {
    /// Same-background hard negatives: an option of the background swap, for the methods with
    /// negatives; refused with the key named for BYOL and for background-remove; absent from the
    /// configuration (and its hash) of a plain swap.
    @Test func hardNegativesAreABackgroundSwapOption() throws {
        let variant = "{name: background-swap-hn, kind: background-swap, hardNegatives: true}"
        let spec = try ExperimentSpec.parse(sampleSpec, source: "sample.yaml", overrides: [
            "methods=[simclr, mocov2]", "regularizers=[none, background-swap, \(variant)]"])
        let cells = spec.cells().filter { $0.seed == 0 && $0.trainView == .full }
        let hard = cells.filter { $0.regularizer == "background-swap-hn" }
        #expect(hard.map(\.method) == [.simclr, .mocov2])
        #expect(hard.allSatisfy { $0.config.intervention == BackgroundIntervention(kind: .swap, probability: 0.5, hardNegatives: true) })
        let swap = try #require(cells.first { $0.regularizer == "background-swap" })
        #expect(swap.config.intervention?.hardNegatives == false && !swap.config.canonicalJSON().contains("hardNegatives"))
        #expect(hard[0].config.canonicalJSON().contains("\"hardNegatives\":true"))
        for (overrides, key, message) in [
            (["methods=[byol]", "regularizers=[none, \(variant)]"], "regularizers[1].hardNegatives", "byol has no negatives"),
            (["regularizers=[none, {name: rm-hn, kind: background-remove, hardNegatives: true}]"], "regularizers[1].hardNegatives", "background-swap"),
        ] {
            #expect { _ = try ExperimentSpec.parse(sampleSpec, source: "sample.yaml", overrides: overrides) } throws: { error in
                guard let e = error as? SpecError else { return false }
                return e.key == key && e.message.contains(message)
            }
        }
        // In a spec with methods without negatives, the variant names the methods it is trained with.
        let restricted = try ExperimentSpec.parse(sampleSpec, source: "sample.yaml", overrides: [
            "methods=[simclr, byol, mocov2]",
            "regularizers=[none, {name: background-swap-hn, kind: background-swap, hardNegatives: true, methods: [simclr, mocov2]}]"])
        let keys = restricted.cells().filter { $0.seed == 0 && $0.trainView == .full }.map(\.key)
        #expect(keys == ["full/simclr/none/seed0", "full/simclr/background-swap-hn/seed0", "full/byol/none/seed0",
                         "full/mocov2/none/seed0", "full/mocov2/background-swap-hn/seed0"])
        #expect { _ = try ExperimentSpec.parse(sampleSpec, source: "sample.yaml", overrides: ["regularizers=[none, {name: v, kind: background-swap, methods: [byol]}]"]) }
            throws: { error in (error as? SpecError).map { $0.key == "regularizers[1].methods" && $0.message.contains("not one of the spec's methods") } ?? false }
        let full = try ExperimentSpec.load(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Experiments/table1-full.yaml").path)
        #expect(Set(full.cells().filter { $0.config.intervention?.hardNegatives == true }.map(\.method)) == [.simclr, .mocov2])
        var both = hard[0].config
        both.iclmsr = ICLMSROptions()
        #expect(throws: InvalidOption.self) { try both.validate() }
    }
}
