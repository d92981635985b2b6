import Foundation
import Testing

/// The `backdrop` executable built next to the test bundle, if any (`swift build --build-tests`
/// builds it; a filtered build may not).
func backdropExecutable() -> URL? {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("backdrop")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return nil
}

func runBackdrop(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = backdropExecutable()!
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

@Suite(.serialized, .enabled(if: backdropExecutable() != nil, "the backdrop executable is not built"))
struct TrainCommandTests {
    @Test func trainPrintsTheTableAndWritesJSON() throws {
        let dir = temporaryDirectory("cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("run.json")
        let r = try runBackdrop(["train", "--data", tinyDataset, "--width", "4", "--epochs", "1", "--batch-size", "8",
                                 "--projector-hidden", "16", "--projector-output", "8", "--json", json.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("linear (full)") && r.stdout.contains("knn (full)") && r.stdout.contains("mixed-random"))
        #expect(r.stderr.contains("img/s") && r.stderr.contains("ETA"))
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
        let config = doc["config"] as! [String: Any]
        #expect(config["method"] as? String == "simclr" && config["preset"] as? String == "symmetric")
        #expect((doc["metrics"] as! [Any]).count == 1)
        let rows = doc["evaluations"] as! [[String: Any]]
        #expect(rows.count == 10)
        #expect(Set(rows.map { $0["test_view"] as! String }) == ["full", "foreground", "only-background", "mixed-same", "mixed-random"])
        #expect(rows.allSatisfy { (0...1).contains($0["top1"] as! Double) && ["knn", "linear"].contains($0["protocol"] as! String) })
    }

    @Test(arguments: [
        (["--method", "swav"], "--method"),
        (["--batch-size", "1"], "--batch-size"),
        (["--temperature=-0.5"], "--temperature"),
        (["--regularizer", "icl-msr", "--msr-strata", "0"], "--msr-strata"),
        (["--msr-weight", "2"], "--msr-weight"),
        (["--train-view", "sideways"], "--train-view"),
    ])
    func invalidOptionsFailBeforeTraining(arguments: [String], option: String) throws {
        let r = try runBackdrop(["train", "--data", tinyDataset] + arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains("Error: \(option)"), "\(r.stderr)")
        #expect(!r.stderr.contains("epoch 1/"))
    }
}
