import Foundation
import TestSupport
import Testing

@Suite(.serialized, .enabled(if: Executables.url("backdrop") != nil, "the backdrop executable is not built"))
struct TrainCommandTests {
    @Test func trainPrintsTheTableAndWritesJSON() throws {
        let dir = temporaryDirectory("cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("run.json")
        let r = try Executables.run("backdrop", ["train", "--data", tinyDataset, "--width", "4", "--epochs", "1", "--batch-size", "8",
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
        let r = try Executables.run("backdrop", ["train", "--data", tinyDataset] + arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains("Error: \(option)"), "\(r.stderr)")
        #expect(!r.stderr.contains("epoch 1/"))
    }
}
