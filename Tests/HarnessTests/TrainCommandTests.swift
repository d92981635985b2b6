import Foundation
import TestSupport
import Testing

@Suite(.serialized, .enabled(if: Executables.url("backdrop") != nil, "the backdrop executable is not built"))
struct TrainCommandTests {
    @Test func trainPrintsTheTableAndWritesJSON() throws {
        let dir = temporaryDirectory("cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("run.json")
        let r = try Executables.run("backdrop", ["train", "--data", tinyDataset, "--no-cache", "--width", "4", "--epochs", "1", "--batch-size", "8",
                                 "--projector-hidden", "16", "--projector-output", "8", "--json", json.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("linear (full)") && r.stdout.contains("knn (full)") && r.stdout.contains("mixed-random"))
        #expect(r.stderr.contains("img/s") && r.stderr.contains("ETA"))
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
        let config = doc["config"] as! [String: Any]
        #expect(config["method"] as? String == "simclr" && (config["train"] as? [String: Any])?["augmentation"] as? String == "symmetric")
        #expect((doc["metrics"] as! [Any]).count == 1)
        let rows = doc["evaluations"] as! [[String: Any]]
        #expect(rows.count == 20)
        #expect(Set(rows.map { $0["test_view"] as! String }) == ["full", "foreground", "only-background", "mixed-same", "mixed-random"])
        #expect(rows.allSatisfy { (0...1).contains($0["top1"] as! Double) && ["knn", "linear"].contains($0["protocol"] as! String) })
    }

    @Test(arguments: [
        (["--method", "swav"], "--method"),
        (["--batch-size", "1"], "--batch-size"),
        (["--temperature=-0.5"], "--temperature"),
        (["--regularizer", "icl-msr", "--msr-strata", "0"], "--msr-strata"),
        (["--msr-weight", "2"], "--msr-weight"),
        (["--regularizer", "background-swap", "--msr-strata", "4"], "--msr-strata"),
        (["--train-view", "sideways"], "--train-view"),
        (["--regularizer", "icl-msr", "--msr-meta-optimizer", "adam", "--msr-meta-momentum", "0.5"], "--msr-meta-momentum"),
        (["--knn-k", "0"], "--knn-k"),
        (["--set", "train.epoks=2"], "--set train.epoks=2"),
        (["--set", "iclmsr.strata=0", "--regularizer", "icl-msr"], "--set iclmsr.strata=0"),
        (["--set", "methods=[simclr, byol]"], "--set methods=[simclr, byol]"),
        (["--batch-size", "64"], "--batch-size"),
    ])
    func invalidOptionsFailBeforeTraining(arguments: [String], option: String) throws {
        // The dataset has 32 train images: --batch-size 64 is refused once the split is loaded.
        let r = try Executables.run("backdrop", ["train", "--data", tinyDataset, "--no-cache"] + arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains("Error: \(option)"), "\(r.stderr)")
        #expect(!r.stderr.contains("epoch 1/"))
    }

    @Test func setTakesAnySpecKey() throws {
        let dir = temporaryDirectory("cli-set")
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("run.json")
        let r = try Executables.run("backdrop", ["train", "--data", tinyDataset, "--no-cache", "--width", "4", "--epochs", "1", "--batch-size", "8", "--quiet",
                                 "--projector-hidden", "16", "--projector-output", "8", "--json", json.path,
                                 "--set", "evaluation.testViews=[full, foreground]", "--set", "train.fill=noise",
                                 "--set", "evaluation.knn.k=3", "--set", "schedule.finalLrFraction=0.5"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
        let config = doc["config"] as! [String: Any]
        #expect((config["train"] as? [String: Any])?["fill"] as? String == "noise")
        #expect(((config["evaluation"] as? [String: Any])?["knn"] as? [String: Any])?["k"] as? Int == 3)
        #expect((config["schedule"] as? [String: Any])?["finalLrFraction"] as? Double == 0.5)
        #expect(Set((doc["evaluations"] as! [[String: Any]]).map { $0["test_view"] as! String }) == ["full", "foreground"])
    }
}
