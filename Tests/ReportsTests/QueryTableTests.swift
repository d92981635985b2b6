import Foundation
import Testing
@testable import Reports
import ResultsStore

/// Hand-made matrix series: simclr/full linear top-1 of `none` and `icl-msr` over seeds 0–2 on
/// `full`, seed 0 on `foreground` and on a view outside the canonical list, and one byol kNN value.
enum QueryFixture {
    static func row(_ method: String, _ regularizer: String, _ protocolName: String, _ testView: String,
                    seed: Int, top1: Double) -> MatrixRow {
        MatrixRow(experimentID: 1, runID: 1, cell: RunCell(cellKey: "", dataset: "builtin", trainView: "full", method: method,
                                                           regularizer: regularizer, seed: seed),
                  protocolName: protocolName, probeView: "full", testView: testView, split: "test", top1: top1, top5: 1, topK: 5, n: 10)
    }

    static let series: [MatrixRow] = [
        row("simclr", "icl-msr", "linear", "full", seed: 0, top1: 0.83),
        row("simclr", "icl-msr", "linear", "full", seed: 1, top1: 0.86),
        row("simclr", "icl-msr", "linear", "full", seed: 2, top1: 0.80),
        row("simclr", "icl-msr", "linear", "foreground", seed: 0, top1: 0.55),
        row("simclr", "none", "linear", "custom", seed: 0, top1: 0.30),
        row("simclr", "none", "linear", "foreground", seed: 0, top1: 0.50),
        row("simclr", "none", "linear", "full", seed: 2, top1: 0.78),
        row("simclr", "none", "linear", "full", seed: 0, top1: 0.80),
        row("simclr", "none", "linear", "full", seed: 1, top1: 0.82),
        row("byol", "none", "knn", "full", seed: 0, top1: 0.40),
    ]
}

@Suite("matrix, compare and runs tables")
struct QueryTableTests {
    @Test("the matrix: rows in the report's order (method, train view, regularizer with none first, protocol); test views in canonical order")
    func matrix() throws {
        let m = MatrixTable(QueryFixture.series)
        #expect(m.testViews == ["full", "foreground", "custom"])
        #expect(m.rows.map { "\($0.method)/\($0.regularizer)/\($0.protocolName)" } == ["simclr/none/linear", "simclr/icl-msr/linear", "byol/none/knn"])
        // none on full: 0.80, 0.82, 0.78 → mean 0.80, sd 0.02; icl-msr: 0.83, 0.86, 0.80 → mean 0.83, sd 0.03.
        let none = try #require(m.rows[0].top1[0]), icl = try #require(m.rows[1].top1[0])
        #expect(none.n == 3 && abs(none.mean - 0.80) < 1e-12 && abs(none.std! - 0.02) < 1e-12)
        #expect(icl.n == 3 && abs(icl.mean - 0.83) < 1e-12 && abs(icl.std! - 0.03) < 1e-12)
        #expect(m.rows[1].top1[2] == nil && m.rows[2].top1[1] == nil)
        let q = m.queryResult
        #expect(q.columns == ["method", "train_view", "regularizer", "protocol", "full", "foreground", "custom"])
        #expect(q.rows[0] == [.text("simclr"), .text("full"), .text("none"), .text("linear"),
                              .text("80.0 ± 2.0 (3)"), .text("50.0 (1)"), .text("30.0 (1)")])
        #expect(q.rows[1][4...] == [.text("83.0 ± 3.0 (3)"), .text("55.0 (1)"), .null])
        // The tidy form: one row per group and test view with a value; 95% t-interval 83.0 ± 4.303·3.0/√3 = ±7.45.
        let tidy = m.tidyResult
        #expect(tidy.columns == ["method", "train_view", "regularizer", "protocol", "test_view", "mean", "std", "n", "ci_low", "ci_high"])
        #expect(tidy.rows.count == 1 + 3 + 2)   // byol: full only; simclr/none: 3 views; icl-msr: 2
        let iclFull = try #require(tidy.rows.first { $0[2] == .text("icl-msr") && $0[4] == .text("full") })
        #expect(iclFull[5...] == [.real(83.0), .real(3.0), .integer(3), .real(75.5), .real(90.5)])
        let single = try #require(tidy.rows.first { $0[2] == .text("icl-msr") && $0[4] == .text("foreground") })
        #expect(single[5...] == [.real(55.0), .null, .integer(1), .null, .null])
    }

    @Test("compare by regularizer: per-value summaries and the paired delta with its t-interval, by hand")
    func compareByRegularizer() throws {
        let c = Comparison(QueryFixture.series, by: .regularizer)
        #expect(c.values == ["none", "icl-msr"])
        #expect(c.rows.map { $0.coordinates + [$0.protocolName, $0.testView] } == [
            ["full", "byol", "knn", "full"], ["full", "simclr", "linear", "full"],
            ["full", "simclr", "linear", "foreground"], ["full", "simclr", "linear", "custom"],
        ])
        // Deltas 0.03, 0.04, 0.02: mean 0.03, sd 0.01, half-width t(0.975, 2)·0.01/√3 = 4.302653·0.0057735 = 0.0248414.
        let d = try #require(c.rows[1].deltas[0])
        #expect(d.summary.n == 3 && abs(d.summary.mean - 0.03) < 1e-12 && abs(d.summary.std! - 0.01) < 1e-12)
        let ci = try #require(d.interval)
        #expect(abs(ci.lowerBound - 0.0051586) < 1e-6 && abs(ci.upperBound - 0.0548414) < 1e-6)
        let single = try #require(c.rows[2].deltas[0])
        #expect(single.summary.n == 1 && abs(single.summary.mean - 0.05) < 1e-12 && single.interval == nil)
        #expect(c.rows[0].deltas[0] == nil && c.rows[3].deltas[0] == nil)

        let q = c.queryResult
        #expect(q.columns == ["train_view", "method", "protocol", "test_view", "none top1", "icl-msr top1", "Δ icl-msr − none [95% CI] (n)"])
        #expect(q.rows[0] == [.text("full"), .text("byol"), .text("knn"), .text("full"), .text("40.0 (1)"), .null, .null])
        #expect(q.rows[1][4...] == [.text("80.0 ± 2.0 (3)"), .text("83.0 ± 3.0 (3)"), .text("+3.0 [+0.5, +5.5] (3)")])
        #expect(q.rows[2][6] == .text("+5.0 (1)"))
    }

    @Test("compare by method and by train view: the other coordinates lead, values sorted, the first is the baseline")
    func compareOtherAxes() {
        let byMethod = Comparison(QueryFixture.series, by: .method)
        #expect(byMethod.values == ["byol", "simclr"])
        #expect(byMethod.queryResult.columns == ["regularizer", "train_view", "protocol", "test_view", "byol top1", "simclr top1",
                                                 "Δ simclr − byol [95% CI] (n)"])
        #expect(byMethod.rows.first?.coordinates == ["icl-msr", "full"])
        let byView = Comparison(QueryFixture.series, by: .trainView)
        #expect(byView.values == ["full"] && byView.queryResult.columns.count == 5)
        let empty = Comparison([], by: .regularizer).queryResult
        #expect(empty.columns == ["train_view", "method", "protocol", "test_view"] && empty.rows.isEmpty)
        #expect(ComparisonAxis(rawValue: "train_view") == .trainView && ComparisonAxis(rawValue: "bogus") == nil)
    }

    @Test("the runs table: rounded seconds, shortened hashes, NULL where unknown, empty error text")
    func runs() {
        let listing = [
            RunListing(id: 1, cellKey: "full/simclr/none/seed0", status: .finished, attempts: 1, elapsedSeconds: 12.5, badSamples: 0,
                       configSHA256: String(repeating: "ab", count: 32), gitCommit: "0123456789abcdef", gitDirty: true,
                       datasetSHA256: String(repeating: "cd", count: 32)),
            RunListing(id: 2, cellKey: "full/simclr/icl-msr/seed0", status: .failed, attempts: 2, elapsedSeconds: nil, badSamples: 4,
                       configSHA256: "e3", error: "diverged", linkedFrom: 7),
        ]
        let q = RunsTable(listing).queryResult
        #expect(q.columns == ["id", "cell_key", "status", "attempts", "seconds", "bad_samples", "config", "dataset", "git", "dirty", "error", "reused_from"])
        #expect(q.rows[0] == [.integer(1), .text("full/simclr/none/seed0"), .text("finished"), .integer(1), .integer(13), .integer(0),
                              .text("abababababab"), .text("cdcdcdcdcdcd"), .text("0123456789"), .integer(1), .text(""), .null])
        #expect(q.rows[1] == [.integer(2), .text("full/simclr/icl-msr/seed0"), .text("failed"), .integer(2), .null, .integer(4),
                              .text("e3"), .null, .null, .null, .text("diverged"), .integer(7)])
    }
}

@Suite("rendering a query result")
struct ResultRenderingTests {
    static let result = QueryResult(columns: ["id", "name", "score", "note", "blob"], rows: [
        [.integer(1), .text("a,b"), .real(1.5), .null, .blob(Data([0, 255]))],
        [.integer(22), .text("say \"hi\"\nbye"), .real(-2), .text("x\ry"), .null],
    ])

    @Test("CSV quotes fields holding a comma, a quote or a line break (RFC 4180)")
    func csv() {
        #expect(Self.result.rendered(as: .csv) == "id,name,score,note,blob\n1,\"a,b\",1.5,,x'00ff'\n22,\"say \"\"hi\"\"\nbye\",-2.0,\"x\ry\",")
        #expect(Format.csvLine(["plain", "", "semi;colon"]) == "plain,,semi;colon")
    }

    @Test("the text table aligns columns, trims trailing spaces and counts rows")
    func table() {
        let r = QueryResult(columns: ["id", "name"], rows: [[.integer(1), .text("alpha")], [.integer(22), .null]])
        #expect(r.rendered(as: .table) == "id  name\n--  -----\n1   alpha\n22\n(2 rows)")
        #expect(QueryResult(columns: ["x"], rows: [[.real(0.25)]]).rendered(as: .table) == "x\n----\n0.25\n(1 row)")
    }

    @Test("JSON is an array of objects with sorted keys that keeps the value types")
    func json() throws {
        let text = Self.result.rendered(as: .json)
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        #expect(objects.count == 2)
        #expect(objects[0]["id"] as? Int == 1 && objects[0]["score"] as? Double == 1.5 && objects[0]["note"] is NSNull)
        #expect(objects[0]["name"] as? String == "a,b" && objects[0]["blob"] as? String == "x'00ff'")
        #expect(objects[1]["name"] as? String == "say \"hi\"\nbye" && objects[1]["score"] as? Double == -2 && objects[1]["blob"] is NSNull)
        let keys = ["\"blob\"", "\"id\"", "\"name\"", "\"note\"", "\"score\""].map { text.range(of: $0)!.lowerBound }
        #expect(keys == keys.sorted())
        // Cell keys and paths read as written: no `\/` escapes.
        let path = QueryResult(columns: ["cell_key"], rows: [[.text("full/simclr/none/seed0")]]).rendered(as: .json)
        #expect(path.contains("\"full/simclr/none/seed0\"") && !path.contains("\\/"))
    }
}
