import Foundation
import TestSupport
import Testing

/// The inputs that once crashed `backdrop train` and `backdrop reproduce` exit 64 with a
/// message naming the option (or `file:line: key`) and its limit, before any data loads.
@Suite struct InputBoundsCommandTests {
    @Test(arguments: [
        (["--epochs", "9223372036854775807"], "--epochs", "100 000"),
        (["--epochs", "1000000000"], "--epochs", "100 000"),
        (["--warmup-epochs", "1e300"], "--warmup-epochs", "100 000"),
        (["--seed", "9223372036854775808"], "--seed", "0…9223372036854775807"),
        (["--projector-hidden", "1000000000"], "--projector-hidden", "16 384"),
        (["--projector-output", "100000000"], "--projector-output", "16 384"),
        (["--regularizer", "icl-msr", "--msr-strata", "1000000000"], "--msr-strata", "4 096"),
        (["--method", "mocov2", "--queue-size", "1000000000"], "--queue-size", "65 536"),
        (["--image-size", "1024", "--width", "64", "--batch-size", "3000"], "--batch-size", "GiB"),
    ])
    func trainRefusesOutOfRangeOptions(arguments: [String], option: String, limit: String) throws {
        try withTemporaryDirectory { dir in
            let data = dir.appendingPathComponent("absent-dataset").path
            let r = try Executables.run("backdrop", ["train", "--data", data, "--no-cache", "--quiet"] + arguments)
            #expect(r.status == 64, "\(r.stderr.prefix(2_000))")
            #expect(r.stderr.contains(option) && r.stderr.contains(limit), "\(r.stderr.prefix(2_000))")
        }
    }

    @Test(arguments: [
        ("seeds: [9223372036854775808]\n", "bomb.yaml:3: seeds:"),
        ("schedule: {warmupEpochs: 1.0e19}\n", "bomb.yaml:3: schedule.warmupEpochs:"),
        ("imageSize: 1024\nmodel: {width: 64}\ntrain: {batchSize: 3000}\n", "train.batchSize:"),
        (InputBoundsCommandTests.aliasBomb, "more than 100 000 values"),
        ("deep: 20000", "bomb.yaml:3: the spec nests deeper than 64 levels"),
    ])
    func reproduceRefusesOutOfRangeSpecs(body: String, expected: String) throws {
        try withTemporaryDirectory { dir in try reproduce(body: body, expected: expected, in: dir) }
    }

    func reproduce(body: String, expected: String, in dir: URL) throws {
        let body = body == "deep: 20000" ? "deep: " + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000) + "\n" : body
        let spec = dir.appendingPathComponent("bomb.yaml")
        try ("name: bomb\ndataset: {builtin: {classes: 3, perClass: 8, testPerClass: 4}}\n" + body).write(to: spec, atomically: true, encoding: .utf8)
        let r = try Executables.run("backdrop", ["reproduce", spec.path, "--db", dir.appendingPathComponent("db.sqlite").path,
                                                 "--results-dir", dir.appendingPathComponent("Results").path])
        #expect(r.status == 64, "\(r.stderr.prefix(2_000))")
        #expect(r.stderr.contains(expected), "\(r.stderr.prefix(2_000))")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("Results").path), "nothing may be written")
    }

    /// `--set` with 20 000 nested lists: the YAML parser's stack once overflowed.
    @Test func trainRefusesADeeplyNestedSet() throws {
        try withTemporaryDirectory { dir in
            let r = try Executables.run("backdrop", ["train", "--data", dir.path, "--no-cache", "--quiet",
                                                     "--set", "train.epochs=" + String(repeating: "[", count: 20_000)])
            #expect(r.status == 64 && r.stderr.contains("--set train.epochs=[[[") && r.stderr.contains("nests deeper than 64 levels"),
                    "\(r.stderr.suffix(500))")
        }
    }

    static let aliasBomb = (["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
        + (1..<9).map { i in "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ") + "]" })
        .joined(separator: "\n") + "\n"
}
