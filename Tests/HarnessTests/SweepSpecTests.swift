import Foundation
import Testing
@testable import Harness

/// `sweep:` expands into matrix dimensions over any scalar spec key.
@Suite struct SweepSpecTests {
    static let twoAxes = sampleSpec + "\nsweep:\n  dataset.builtin.confounding: [0.5, 0.9]\n  iclmsr.weight: [0.1, 1, 10]\n"

    @Test func everyCombinationIsAPointAndTheFirstAxisVariesSlowest() throws {
        let spec = try ExperimentSpec.parse(Self.twoAxes, source: "sweep.yaml")
        #expect(spec.sweep?.map(\.key) == ["dataset.builtin.confounding", "iclmsr.weight"])
        #expect(spec.points.map(\.label) == [
            "dataset.builtin.confounding=0.5,iclmsr.weight=0.1", "dataset.builtin.confounding=0.5,iclmsr.weight=1",
            "dataset.builtin.confounding=0.5,iclmsr.weight=10", "dataset.builtin.confounding=0.9,iclmsr.weight=0.1",
            "dataset.builtin.confounding=0.9,iclmsr.weight=1", "dataset.builtin.confounding=0.9,iclmsr.weight=10",
        ])
        // Each point is the spec with its values set, decoded as strictly as the spec itself.
        #expect(spec.points.map { $0.spec.dataset.builtin?.confounding } == [0.5, 0.5, 0.5, 0.9, 0.9, 0.9])
        #expect(spec.points[2].spec.regularizers.first { $0.name == "icl-msr" }?.iclmsr?.weight == 10)
        #expect(spec.points.allSatisfy { $0.spec.sweep == nil })
    }

    @Test func cellKeysNameTheSweptValuesAndHashesChangeOnlyWhereTheCellReadsTheKey() throws {
        let spec = try ExperimentSpec.parse(Self.twoAxes, source: "sweep.yaml")
        let plain = try ExperimentSpec.parse(sampleSpec, source: "sample.yaml")
        let cells = spec.cells()
        #expect(cells.count == 6 * plain.cells().count)
        #expect(Set(cells.map(\.key)).count == cells.count)
        let first = try #require(cells.first)
        #expect(first.key == "dataset.builtin.confounding=0.5,iclmsr.weight=0.1/\(plain.cells()[0].key)")
        #expect(first.sweep == "dataset.builtin.confounding=0.5,iclmsr.weight=0.1")
        #expect(cells.allSatisfy { $0.key.hasPrefix($0.sweep + "/") })

        func hashes(_ regularizer: String, confounding: String) -> Set<String> {
            Set(cells.filter { $0.regularizer == regularizer && $0.seed == 0 && $0.trainView == .full
                && $0.sweep.hasPrefix("dataset.builtin.confounding=\(confounding),") }.map(\.configSHA256))
        }
        // The weight changes the ICL-MSR cells only; the confounding changes every cell (its dataset).
        #expect(hashes("icl-msr", confounding: "0.5").count == 3)
        #expect(hashes("none", confounding: "0.5").count == 1)
        #expect(hashes("none", confounding: "0.5") != hashes("none", confounding: "0.9"))
        // Claims of cells without a sweep are untouched: a spec without `sweep` has empty labels.
        #expect(plain.cells().allSatisfy { $0.sweep.isEmpty && !$0.key.contains("=") })
    }

    @Test func aSweepChangesTheSpecHashButNotTheUnsweptCells() throws {
        let one = try ExperimentSpec.parse(sampleSpec + "\nsweep: {iclmsr.weight: [1.0]}\n", source: "s.yaml")
        let plain = try ExperimentSpec.parse(sampleSpec, source: "s.yaml")
        #expect(one.specSHA256 != plain.specSHA256)
        // weight 1.0 is the default: the same training configurations as the unswept spec.
        #expect(one.cells().map(\.configSHA256) == plain.cells().map(\.configSHA256))
    }

    @Test(arguments: [
        ("sweep: [0.5, 0.9]\n", "sweep", "expected a mapping"),
        ("sweep: {}\n", "sweep", "empty"),
        ("sweep: {seeds: [0, 1]}\n", "sweep.seeds", "cannot be swept"),
        ("sweep: {methods: [simclr]}\n", "sweep.methods", "cannot be swept"),
        ("sweep: {name: [a, b]}\n", "sweep.name", "cannot be swept"),
        ("sweep: {train: [1, 2]}\n", "sweep.train", "holds a mapping"),
        ("sweep: {train.epochs: []}\n", "sweep.train.epochs", "the list is empty"),
        ("sweep: {train.epochs: [1, 1]}\n", "sweep.train.epochs", "twice"),
        ("sweep: {train.epochs: [[1]]}\n", "sweep.train.epochs", "give single values"),
        ("sweep: {train.epochs: {a: 1}}\n", "sweep.train.epochs", "expected a list"),
        ("sweep: {iclmsr.prior: [a/b]}\n", "sweep.iclmsr.prior", "cannot name a cell"),
        ("sweep: {train..epochs: [1]}\n", "sweep.train..epochs", "empty component"),
        ("sweep: {train.epochs: [1, 0]}\n", "train.epochs", "(at sweep point train.epochs=0)"),
        ("sweep: {train.epoks: [1, 2]}\n", "train.epoks", "unknown key"),
    ])
    func malformedSweepsNameTheKey(line: String, key: String, message: String) {
        do {
            let spec = try ExperimentSpec.parse(sampleSpec + "\n" + line, source: "s.yaml")
            Issue.record("expected an error for \(line), got \(spec.points.count) points")
        } catch let error as SpecError {
            #expect(error.key == key, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func setReplacesTheWholeSweepMapping() throws {
        let spec = try ExperimentSpec.parse(Self.twoAxes, source: "sweep.yaml", overrides: ["sweep={train.epochs: [1, 3]}"])
        #expect(spec.sweep?.map(\.key) == ["train.epochs"])
        #expect(spec.points.map(\.label) == ["train.epochs=1", "train.epochs=3"])
        #expect(spec.points.map(\.spec.train.epochs) == [1, 3])
    }
}
