import Foundation
import NN
import Testing
@testable import Harness

/// Each input that once crashed the program (an overflow, a trapping conversion, an allocation
/// beyond the machine, a YAML parser's stack) is now a `SpecError` naming the key and the limit.
@Suite struct InputBoundsTests {
    /// The error parsing `text` with `overrides` gives, or nil when it parses.
    func refusal(_ overrides: [String], text: String = sampleSpec) -> SpecError? {
        do {
            _ = try ExperimentSpec.parse(text, source: "sample.yaml", overrides: overrides)
            return nil
        } catch let e as SpecError {
            return e
        } catch {
            Issue.record("not a SpecError: \(error)")
            return nil
        }
    }

    @Test(arguments: [
        ("train.epochs=1000000000", "train.epochs", "100 000"),
        ("train.epochs=9223372036854775807", "train.epochs", "100 000"),
        ("train.batchSize=1000000000", "train.batchSize", "65 536"),
        ("schedule.warmupEpochs=1.0e19", "schedule.warmupEpochs", "100 000"),
        ("schedule.warmupEpochs=1e300", "schedule.warmupEpochs", "100 000"),
        ("methodOptions.simclr.projectorHidden=1000000000", "methodOptions.simclr.projectorHidden", "16 384"),
        ("methodOptions.simclr.projectorOutput=100000000", "methodOptions.simclr.projectorOutput", "16 384"),
        ("iclmsr.strata=1000000000", "iclmsr.strata", "4 096"),
        ("evaluation.knn.k=1000000000", "evaluation.knn.k", "100 000"),
        ("evaluation.probe.maxIterations=1000000000", "evaluation.probe.maxIterations", "1 000 000"),
        ("seeds=[9223372036854775808]", "seeds", "0…9223372036854775807"),
        ("seeds=[18446744073709551615]", "seeds", "0…9223372036854775807"),
    ])
    func refusesOutOfRangeValues(assignment: String, key: String, limit: String) throws {
        let e = try #require(refusal([assignment]))
        #expect(e.key == key && e.message.contains(limit), "\(e)")
        #expect(e.location == "--set \(assignment)", "\(e)")
    }

    @Test func namesTheLineOfASpecValue() throws {
        let e = try #require(refusal([], text: sampleSpec.replacingOccurrences(of: "epochs: 2", with: "epochs: 1000000000")))
        #expect(e.description == "sample.yaml:12: train.epochs: invalid value 1000000000: at most 100 000 epochs are allowed")
    }

    @Test func largestSeedIsAcceptedAndRecorded() throws {
        let spec = try ExperimentSpec.parse(sampleSpec, source: "sample.yaml", overrides: ["seeds=[9223372036854775807]"])
        #expect(spec.cells().allSatisfy { $0.runCell.seed == Int.max })
    }

    @Test func refusesAMocoQueueBeyondItsLimit() throws {
        let e = try #require(refusal(["methods=[mocov2]", "methodOptions.mocov2.queueSize=1000000000"]))
        #expect(e.key == "methodOptions.mocov2.queueSize" && e.message.contains("65 536"), "\(e)")
    }

    @Test func refusesAStepThatCannotFitInMemory() throws {
        // 1024² pixels × 64 channels × 3000 images: beyond any machine (batchSize 30 is beyond 128 GB, below).
        let e = try #require(refusal(["imageSize=1024", "model.width=64", "train.batchSize=3000"]))
        #expect(e.key == "train.batchSize" && e.message.contains("GiB") && e.message.contains("imageSize 1024"), "\(e)")
        // The estimate is a low one: the default cell needs well under a GiB.
        #expect(TrainLimits.estimatedPeakBytes(imageSize: 32, width: 16, batchSize: 128) < 1 << 30)
        #expect(TrainLimits.estimatedPeakBytes(imageSize: .max, width: .max, batchSize: .max) == .max)
        var c = TrainConfig(data: "x")
        (c.imageSize, c.model.width, c.train.batchSize) = (1024, 64, 30)
        #expect(throws: InvalidOption.self) { try c.validate(memoryBytes: 128_000_000_000) }
        c = TrainConfig(data: "x")
        #expect(throws: InvalidOption.self) { try c.validate(memoryBytes: 1 << 20) }
        c.train.batchSize = 2
        c.imageSize = 8
        c.model.width = 1
        try c.validate(memoryBytes: 1 << 20)
    }

    @Test func warmupStepsNeverTrap() {
        for w in [1e300, 1e19, .greatestFiniteMagnitude, 0, 2.5] {
            let steps = ScheduleSpec(warmupEpochs: w).warmupSteps(stepsPerEpoch: 10, epochs: 3)
            #expect((0..<30).contains(steps))
        }
    }

    // MARK: YAML shape

    static let aliasBomb = (["name: bomb", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
        + (1..<9).map { i in "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ") + "]" })
        .joined(separator: "\n")

    @Test func refusesAnAliasBomb() throws {
        let start = Date()
        let e = try #require(refusal([], text: Self.aliasBomb))
        #expect(e.message.contains("more than 100 000 values") && e.message.contains("aliases"), "\(e)")
        #expect(e.location.hasPrefix("sample.yaml:"), "\(e)")
        #expect(Date().timeIntervalSince(start) < 10)
    }

    /// 20 000 levels of flow lists, flow mappings, compact block lists; 100 indented mappings.
    static func deep(_ kind: String) -> String {
        switch kind {
        case "flow lists": return String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000)
        case "flow mappings": return String(repeating: "{a: ", count: 20_000) + "1" + String(repeating: "}", count: 20_000)
        case "indented mappings": return "\n" + (1...100).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1"
        default: return "\n" + String(repeating: "- ", count: 20_000) + "x"
        }
    }

    @Test(arguments: ["flow lists", "flow mappings", "indented mappings", "compact lists"])
    func refusesDeepNesting(kind: String) throws {
        let body = Self.deep(kind)
        let e = try #require(refusal([], text: "name: deep\nx: " + body))
        #expect(e.message.contains("nests deeper than 64 levels"), "\(e)")
        #expect(e.location.hasPrefix("sample.yaml:"), "\(e)")
        let set = try #require(refusal(["train.epochs=" + body]))
        #expect(set.message.contains("nests deeper than 64 levels") && set.location.hasPrefix("--set train.epochs="), "\(set)")
    }

    @Test func refusesAnEndlessKeyPath() throws {
        let e = try #require(refusal([Array(repeating: "a", count: 20_000).joined(separator: ".") + "=1"]))
        #expect(e.message.contains("more than 64 components"), "\(e)")
    }

    @Test func ordinaryNestingIsNotMistakenForDepth() throws {
        let text = """
        name: shallow
        description: |
          Prose with [unbalanced brackets and {braces
            and "quotes that never close
        dataset:
          builtin: {classes: 3, perClass: 8, testPerClass: 4, size: 32, seed: 1}   # a comment with [[[[
        regularizers:
          - none
          - {name: k4, strata: 4}   # [[[[
        """
        #expect(YAMLLimits.estimatedDepth(of: text).depth < 8)
        #expect(YAMLLimits.estimatedDepth(of: "a: '[[[['\nb: \"{{\\\"[[\"\nc: it's [x]\n").depth < 4)
        _ = try ExperimentSpec.parse(text, source: "shallow.yaml")
    }
}
