import Foundation
import ResultsStore
import TestSupport
import Testing

/// `backdrop serve`: the real server process over a real results database, asked over sockets
/// and by a headless browser.
@Suite(.timeLimit(.minutes(5))) struct ServeCommandTests {
    /// Makes in `dir` a results database holding experiment 1, `tiny-serve`: one finished run of
    /// one epoch of two steps, with its per-step loss.
    static func tinyDatabase(in dir: URL) throws -> String {
        let data = dir.appendingPathComponent("data").path
        let generate = try Executables.run("backdrop", ["dataset", "generate", "--out", data, "--classes", "2", "--per-class", "4",
                                                        "--test-per-class", "2", "--size", "32"])
        guard generate.status == 0 else { throw ServeTestError("dataset generate failed: \(generate.stderr)") }
        let db = dir.appendingPathComponent("results.sqlite").path
        let train = try Executables.run("backdrop", ["train", "--data", data, "--db", db, "--experiment", "tiny-serve"] + TrainRecordingCommandTests.tiny)
        guard train.status == 0 else { throw ServeTestError("train failed: \(train.stderr)") }
        return db
    }

    static func checksum(_ db: String) throws -> String {
        let store = try ResultsDatabase(path: db, mode: .readOnly)
        defer { try? store.close() }
        return try store.contentChecksum()
    }

    @Test func servesExperimentsRunsMetricsAndReportsWithoutWriting() throws {
        let dir = temporaryDirectory("serve")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try Self.tinyDatabase(in: dir)
        let before = try Self.checksum(db)
        let server = try ServeProcess(db: db)
        defer { server.stop() }
        #expect(server.banner == "Serving \(db) at http://127.0.0.1:\(server.port)/ (Ctrl-C to stop)")

        let experiments = try #require(try server.json("/api/experiments") as? [[String: Any]])
        #expect(experiments.count == 1 && experiments[0]["name"] as? String == "tiny-serve" && experiments[0]["id"] as? Int == 1, "\(experiments)")
        #expect(experiments[0]["cells"] as? Int == 1 && experiments[0]["finished"] as? Int == 1, "\(experiments)")

        let runs = try #require(try server.json("/api/experiments/1/runs") as? [[String: Any]])
        #expect(runs.count == 1, "\(runs)")
        let run = try #require(runs.first)
        let runID = try #require(run["id"] as? Int)
        let cellKey = try #require(run["cellKey"] as? String)
        #expect(run["status"] as? String == "finished" && run["method"] as? String == "simclr" && run["seed"] is Int, "\(run)")
        #expect(run["trainView"] is String && run["regularizer"] is String, "\(run)")
        #expect(run["epoch"] as? Int == 0 && run["step"] as? Int == 1 && run["epochs"] as? Int == 1, "\(run)")
        #expect(run["startedAt"] is String && run["finishedAt"] is String, "\(run)")

        let metrics = try #require(try server.json("/api/runs/\(runID)/metrics?key=loss") as? [String: Any])
        let points = try #require(metrics["points"] as? [[Any]])
        #expect(points.count == 2 && metrics["more"] as? Bool == false && metrics["key"] as? String == "loss", "\(metrics)")
        #expect(points.map { $0[0] as? Int } == [0, 1] && points.allSatisfy { ($0[2] as? Double)?.isFinite == true }, "\(points)")
        let later = try #require(try server.json("/api/runs/\(runID)/metrics?key=loss&after=0") as? [String: Any])
        #expect((later["points"] as? [[Any]])?.map { $0[0] as? Int } == [1], "\(later)")
        let none = try #require(try server.json("/api/runs/\(runID)/metrics?key=no-such-metric") as? [String: Any])
        #expect((none["points"] as? [Any])?.isEmpty == true, "\(none)")

        // The pages: the list, the experiment with its run, and the report `backdrop report` writes.
        let home = try server.get("/")
        #expect(home.status == 200 && home.headers["content-type"] == "text/html; charset=utf-8", "\(home)")
        #expect(home.body.contains("href=\"/experiments/1\">tiny-serve</a>"), "\(home.body)")
        let page = try server.get("/experiments/1")
        #expect(page.status == 200 && page.body.contains("<tr data-run=\"\(runID)\"><td>\(runID)</td><td>\(cellKey)</td>"), "\(page.body)")
        #expect(page.body.contains("epoch 1/1 · step 2") && page.body.contains("<script>"), "\(page.body)")
        let report = try Executables.run("backdrop", ["report", "--db", db, "--experiment", "1", "--out", dir.appendingPathComponent("reports").path])
        #expect(report.status == 0, "\(report.stderr)")
        let written = try String(contentsOf: dir.appendingPathComponent("reports/tiny-serve/report.html"), encoding: .utf8)
        let served = try server.get("/experiments/1/report")
        #expect(served.status == 200 && served.body == written)

        // HEAD: the headers of GET without the body.
        let head = try HTTPAnswer.exchange(port: server.port, "HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(head.status == 200 && head.body.isEmpty && head.headers["content-length"] == String(home.body.utf8.count), "\(head)")

        // Wrong paths, ids and queries are told what is wrong.
        let unknownPath = try server.get("/nope")
        #expect(unknownPath.status == 404 && unknownPath.body.contains("no page at /nope") && unknownPath.body.contains("/api/experiments"), "\(unknownPath)")
        let unknownExperiment = try server.get("/experiments/99")
        #expect(unknownExperiment.status == 404 && unknownExperiment.body.contains("no experiment with id 99"), "\(unknownExperiment)")
        #expect(try server.get("/experiments/99/report").status == 404)
        #expect(try server.get("/api/experiments/99/runs").status == 404)
        let unknownRun = try server.get("/api/runs/99/metrics")
        #expect(unknownRun.status == 404 && unknownRun.body.contains("no run with id 99"), "\(unknownRun)")
        let badID = try server.get("/experiments/abc")
        #expect(badID.status == 400 && badID.body.contains("positive whole number"), "\(badID)")
        let badStep = try server.get("/api/runs/\(runID)/metrics?after=x")
        #expect(badStep.status == 400 && badStep.body.contains("after must be a step number"), "\(badStep)")

        // Nothing but GET and HEAD, nothing malformed or oversized, no foreign Host.
        let post = try HTTPAnswer.exchange(port: server.port, "POST /api/experiments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}")
        #expect(post.status == 405 && post.headers["allow"] == "GET, HEAD" && post.body.contains("read-only"), "\(post)")
        let delete = try HTTPAnswer.exchange(port: server.port, "DELETE /experiments/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(delete.status == 405, "\(delete)")
        let malformed = try HTTPAnswer.exchange(port: server.port, "HELLO\r\n\r\n")
        #expect(malformed.status == 400 && malformed.body.contains("malformed request line"), "\(malformed)")
        let oversized = try HTTPAnswer.exchange(port: server.port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: \(String(repeating: "a", count: 40_000))\r\n\r\n")
        #expect(oversized.status == 431, "\(oversized)")
        let rebound = try HTTPAnswer.exchange(port: server.port, "GET /api/experiments HTTP/1.1\r\nHost: attacker.example:\(server.port)\r\n\r\n")
        #expect(rebound.status == 421 && !rebound.body.contains("tiny-serve"), "\(rebound)")

        // Listening on loopback only: no other address of this machine answers.
        for address in nonLoopbackIPv4Addresses() {
            #expect(throws: ServeTestError.self, "\(address) answered") { try HTTPAnswer.connectedSocket(address: address, port: server.port) }
        }

        // A second server on the same port is told to pick another.
        let taken = try Executables.run("backdrop", ["serve", "--port", String(server.port), "--db", db])
        #expect(taken.status == 1 && taken.stderr.contains("port \(server.port)") && taken.stderr.contains("choose another port"), "\(taken.stderr)")

        #expect(try Self.checksum(db) == before)
        #expect(server.stop() == 0)
        #expect(server.stderr.contains("stopped serving \(db)"), "\(server.stderr)")
    }

    @Test func followsATrainingProcessWritingTheDatabase() throws {
        let dir = temporaryDirectory("serve-live")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try Self.tinyDatabase(in: dir)
        let server = try ServeProcess(db: db)
        defer { server.stop() }

        // A second experiment trains (another seed: a new run) while the page's endpoints are read.
        let training = Process()
        training.executableURL = Executables.url("backdrop")
        training.arguments = ["train", "--data", dir.appendingPathComponent("data").path, "--db", db, "--experiment", "tiny-live",
                              "--seed", "5"] + TrainRecordingCommandTests.tiny
        let trainingOutput = CapturedOutput()
        trainingOutput.attach(to: training)
        try training.run()
        defer { if training.isRunning { training.terminate() } }
        var answers: [Int] = [], readsWhileTraining = 0
        let deadline = Date().addingTimeInterval(240)
        while training.isRunning && Date() < deadline {
            answers.append(try server.get("/api/experiments").status)
            let runs = try server.get("/api/experiments/2/runs").status
            answers.append(runs == 404 ? 200 : runs)   // 404 until the experiment is recorded
            readsWhileTraining += 1
            Thread.sleep(forTimeInterval: 0.1)
        }
        training.waitUntilExit()
        trainingOutput.waitForEnd(timeout: 5)
        #expect(training.terminationStatus == 0, "\(trainingOutput.stderr)")
        #expect(readsWhileTraining > 0 && answers.allSatisfy { $0 == 200 }, "\(answers)")

        let experiments = try #require(try server.json("/api/experiments") as? [[String: Any]])
        #expect(experiments.map { $0["name"] as? String } == ["tiny-serve", "tiny-live"], "\(experiments)")
        let runs = try #require(try server.json("/api/experiments/2/runs") as? [[String: Any]])
        #expect(runs.count == 1 && runs[0]["status"] as? String == "finished" && runs[0]["step"] as? Int == 1, "\(runs)")
        let runID = try #require(runs[0]["id"] as? Int)
        let metrics = try #require(try server.json("/api/runs/\(runID)/metrics") as? [String: Any])
        #expect((metrics["points"] as? [Any])?.count == 2, "\(metrics)")
    }

    @Test(.enabled(if: chromiumPath != nil, "Chromium not installed: apt-get install chromium"))
    func aBrowserShowsTheRunsAndDrawsTheChart() throws {
        let browser = try #require(chromiumPath)
        let dir = temporaryDirectory("serve-browser")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try Self.tinyDatabase(in: dir)
        let server = try ServeProcess(db: db)
        defer { server.stop() }
        let cellKey = try #require((try server.json("/api/experiments/1/runs") as? [[String: Any]])?.first?["cellKey"] as? String)

        let result = try dumpDOM(browser, "http://127.0.0.1:\(server.port)/experiments/1", profile: dir.appendingPathComponent("profile"))
        #expect(!result.timedOut && result.status == 0, "\(result.stderr)")
        let dom = result.stdout
        // The runs, as the page's script redrew them, and the chart it drew from the metrics endpoint.
        #expect(dom.contains("<tr data-run=\"1\"><td>1</td><td>\(cellKey)</td>"), "\(dom)")
        #expect(dom.contains("id=\"live-chart\""), "\(dom)")
        let line = try #require(dom.firstMatch(of: /<polyline class="series" data-run="1"[^>]* points="([0-9.]+,[0-9.]+ [0-9.]+,[0-9.]+)"/), "\(dom)")
        #expect(!line.1.isEmpty)
        #expect(dom.contains("Updated ") && dom.contains("1 runs, 0 running."), "\(dom)")
        #expect(dom.contains("\(cellKey): ") && dom.contains(" at step 2"), "\(dom)")
    }

    @Test func aMissingDatabaseIsNamedWithTheFixAndNotCreated() throws {
        let dir = temporaryDirectory("serve-missing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("none.sqlite").path
        let r = try Executables.run("backdrop", ["serve", "--port", "0", "--db", db])
        #expect(r.status == 1 && r.stderr.contains("results database \(db) does not exist") && r.stderr.contains("--db"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db))
        let badPort = try Executables.run("backdrop", ["serve", "--port", "70000", "--db", db])
        #expect(badPort.status == 64 && badPort.stderr.contains("--port"), "\(badPort.stderr)")
    }

    @Test func textFromTheDatabaseIsEscapedOnTheServerAndByThePageScript() throws {
        let dir = temporaryDirectory("serve-escape")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("hostile.sqlite").path
        let store = try ResultsDatabase(path: db)
        let experiment = try store.upsertExperiment(name: "<script>alert(1)</script>&", specSHA256: "abc", overrides: ["x=\"<b>\""])
        try store.planRun(experimentID: experiment.id,
                          cell: RunCell(cellKey: "<img src=x onerror=alert(2)>", dataset: "d", trainView: "full", method: "simclr", regularizer: "none", seed: 0),
                          provenance: RunProvenance(configJSON: "{}", configSHA256: "0"))
        try store.close()
        let server = try ServeProcess(db: db)
        defer { server.stop() }

        for path in ["/", "/experiments/1"] {
            let page = try server.get(path)
            #expect(page.status == 200 && page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;"), "\(page.body)")
            #expect(!page.body.contains("<script>alert") && !page.body.contains("<img") && !page.body.contains("<b>"), "\(page.body)")
        }
        #expect(try server.get("/experiments/1").body.contains("<td>&lt;img src=x onerror=alert(2)&gt;</td>"))
        let runs = try #require(try server.json("/api/experiments/1/runs") as? [[String: Any]])
        #expect(runs.first?["cellKey"] as? String == "<img src=x onerror=alert(2)>" && runs.first?["status"] as? String == "pending", "\(runs)")

        // The table the page's script rebuilds holds the same text as text, not as an element.
        guard let browser = chromiumPath else { return }
        let result = try dumpDOM(browser, "http://127.0.0.1:\(server.port)/experiments/1", profile: dir.appendingPathComponent("profile"))
        #expect(!result.timedOut && result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("<td>&lt;img src=x onerror=alert(2)&gt;</td>") && !result.stdout.contains("<img"), "\(result.stdout)")
        #expect(result.stdout.contains("no loss values recorded yet") && result.stdout.contains("1 runs, 0 running."), "\(result.stdout)")
    }

    @Test func anotherHostIsServedWithAWarningAndCtrlCStopsIt() throws {
        let dir = temporaryDirectory("serve-host")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("empty.sqlite").path
        try ResultsDatabase(path: db).close()
        let server = try ServeProcess(db: db, arguments: ["--host", "0.0.0.0"])
        defer { server.stop() }
        #expect(server.banner == "Serving \(db) at http://0.0.0.0:\(server.port)/ (Ctrl-C to stop)")
        let deadline = Date().addingTimeInterval(5)
        while !server.stderr.contains("warning") && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(server.stderr.contains("warning: listening on 0.0.0.0, not a loopback address"), "\(server.stderr)")
        // Not bound to loopback: any Host is answered; the empty database lists no experiment.
        let home = try HTTPAnswer.exchange(port: server.port, "GET / HTTP/1.1\r\nHost: results.example\r\n\r\n")
        #expect(home.status == 200 && home.body.contains("holds no experiments yet"), "\(home)")
        // A database that goes away while served is named, and not created again.
        try FileManager.default.removeItem(atPath: db)
        let gone = try server.get("/api/experiments")
        #expect(gone.status == 503 && gone.body.contains("results database \(db) does not exist"), "\(gone)")
        #expect(!FileManager.default.fileExists(atPath: db))
        #expect(server.interrupt() == 0)
        #expect(server.stderr.contains("stopped serving \(db)"), "\(server.stderr)")
    }
}
