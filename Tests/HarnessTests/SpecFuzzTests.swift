import Foundation
import Testing
@testable import Harness

/// Random mutations of valid specs, `--set` strings and option values fed to the validators
/// (YAML parsing, decoding, matrix expansion, `TrainConfig.validate`): each must parse or be
/// refused with a `SpecError` naming a location — never crash. Seeded, so every run feeds the
/// same inputs; bounded by a count and a time budget.
@Suite struct SpecFuzzTests {
    /// SplitMix64: a tiny deterministic generator.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }

    /// Values that sat at or beyond some limit, or broke a parser, at some point.
    static let values = ["-1", "0", "1", "2", "7", "1e300", "-1e300", "1.0e19", "9223372036854775807", "9223372036854775808",
                         "-9223372036854775809", "18446744073709551616", "1000000000", "100000000", "65537", "1024", "1025",
                         "NaN", ".nan", ".inf", "-.inf", "~", "null", "true", "''", "\"\"", "[]", "{}", "[1, 2]", "{a: 1}",
                         "&x 3", "*x", "x", "simclr", "mocov2", "byol", "icl-msr", "background-swap", "full", "foreground"]
    /// Pieces of YAML syntax.
    static let syntax = ["[", "]", "{", "}", ":", ": ", ", ", "- ", "\n", "\n  ", "  ", "'", "\"", "#", "&a ", "*a", "|", ">", "? ", "!!str ", "%"]

    static let keys = ["train.epochs", "train.batchSize", "imageSize", "model.width", "seeds", "schedule.warmupEpochs",
                       "methodOptions.simclr.projectorHidden", "methodOptions.simclr.projectorOutput", "methodOptions.simclr.temperature",
                       "iclmsr.strata", "iclmsr.metaInterval", "evaluation.knn.k", "evaluation.probe.maxIterations",
                       "train.checkpointEverySteps", "methods", "regularizers", "trainViews", "optimizer.lr", "regularizers.1.strata",
                       "partnerSeed", "controls", "dataset.builtin.perClass"]

    static func repositoryFile(_ path: String) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    static func mutate(_ text: String, _ g: inout Generator) -> String {
        var chars = Array(text)
        for _ in 0..<(1 + g.below(4)) {
            let at = g.below(chars.count + 1)
            switch g.below(6) {
            case 0 where !chars.isEmpty:  // delete a range
                let end = min(chars.count, at + 1 + g.below(12))
                if at < end { chars.removeSubrange(at..<end) }
            case 1: chars.insert(contentsOf: g.pick(syntax), at: at)
            case 2: chars.insert(contentsOf: g.pick(values), at: at)
            case 3:  // replace the number or word at `at`
                var end = at
                while end < chars.count, chars[end].isLetter || chars[end].isNumber || chars[end] == "." { end += 1 }
                chars.replaceSubrange(at..<end, with: g.pick(values))
            case 4 where !chars.isEmpty:  // duplicate a slice elsewhere
                let end = min(chars.count, at + g.below(40))
                let slice = Array(chars[min(at, chars.count - 1)..<max(end, min(at, chars.count - 1))])
                chars.insert(contentsOf: slice, at: g.below(chars.count + 1))
            default: chars.insert(contentsOf: String(repeating: g.pick(["[", "{a: ", "- ", " "]), count: g.below(200)), at: at)
            }
        }
        return String(chars)
    }

    /// Parses, expands and re-validates; a thrown error must be a located `SpecError`.
    static func check(_ input: String, _ parse: () throws -> [MatrixCell]) {
        do {
            for cell in try parse() {
                try cell.config.validate()
                _ = (cell.runCell, cell.configSHA256)
            }
        } catch let e as SpecError {
            #expect(!e.location.isEmpty && !e.message.isEmpty, "\(input): \(e)")
        } catch {
            Issue.record("\(input.prefix(300)): not a SpecError: \(error)")
        }
    }

    @Test func mutatedSpecsParseOrFailCleanly() throws {
        var g = Generator(state: 13)
        let seeds = [try Self.repositoryFile("Experiments/table1-quick.yaml"), sampleSpec]
        let start = Date()
        for i in 0..<6_000 where Date().timeIntervalSince(start) < 12 {
            let text = Self.mutate(g.pick(seeds), &g)
            // A test set is a folder that is hashed while parsing: not the validators' business.
            if text.contains("testSets") || text.contains("folder") { continue }
            let sets = (0..<g.below(3)).map { _ in "\(g.pick(Self.keys))=\(g.pick(Self.values))" }
            Self.check("#\(i) \(sets) \(text)") { try ExperimentSpec.parse(text, source: "fuzz.yaml", overrides: sets).cells() }
        }
    }

    @Test func mutatedSetStringsAndOptionValuesFailCleanly() {
        var g = Generator(state: 6)
        let start = Date()
        for i in 0..<6_000 where Date().timeIntervalSince(start) < 12 {
            let assignments = (0..<(1 + g.below(4))).map { _ -> String in
                let value = g.below(3) == 0 ? Self.mutate(g.pick(Self.values), &g) : g.pick(Self.values)
                let key = g.below(8) == 0 ? Self.mutate(g.pick(Self.keys), &g) : g.pick(Self.keys)
                return g.below(20) == 0 ? key + value : "\(key)=\(value)"
            }
            Self.check("#\(i) \(assignments)") {
                [try SingleCellSpec(folder: "/nonexistent/fuzz-dataset", assignments: ["trainViews=full"] + assignments).cell]
            }
        }
    }
}
