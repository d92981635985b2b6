import Foundation
import Testing
@testable import ResultsStore

@Suite("Schema migrations")
struct MigrationTests {
    @Test("an empty database migrates to the latest schema with tables, indexes and views")
    func fromEmpty() throws {
        let store = try ResultsDatabase.inMemory()
        #expect(try store.appliedMigrations() == ResultsDatabase.migrationIdentifiers)
        let schema = try store.schemaSQL().joined(separator: "\n")
        for table in ["experiments", "runs", "params", "metrics", "evaluations", "checkpoints"] {
            #expect(schema.contains("table \(table):"), "missing table \(table)")
        }
        for view in ["matrix_cells", "matrix_series", "matrix_summary", "cell_gaps"] {
            #expect(schema.contains("view \(view):"), "missing view \(view)")
        }
        #expect(schema.contains("index runs_experiment_status:"))
    }

    /// Fixture rows written with raw SQL against the v1 tables (what a v1 build wrote).
    static let v1Fixture = """
        INSERT INTO experiments (id, name, spec_path, spec_sha256, created_at) VALUES (1, 'old', 'a.yaml', 'h1', 1.0);
        INSERT INTO runs (id, experiment_id, cell_key, dataset, train_view, method, regularizer, seed, status,
                          config_json, config_sha256, attempts, started_at, finished_at)
            VALUES (1, 1, 'full/simclr/none/seed0', 'builtin', 'full', 'simclr', 'none', 0, 'finished', '{}', 'c1', 1, 2.0, 3.0);
        INSERT INTO evaluations (run_id, protocol, probe_view, test_view, split, top1, top5, n, feature_source, created_at)
            VALUES (1, 'linear', 'full', 'full', 'test', 0.9, 1.0, 100, 'backbone', 4.0),
                   (1, 'linear', 'full', 'foreground', 'test', 0.6, 0.9, 100, 'backbone', 4.0);
        INSERT INTO metrics (run_id, key, step, epoch, value, wall_time) VALUES (1, 'loss', 0, 0, 2.5, 2.5);
        INSERT INTO params (run_id, key, value) VALUES (1, 'train.epochs', '2');
        INSERT INTO checkpoints (run_id, epoch, path, sha256, created_at) VALUES (1, 1, 'c.ckpt', 'ff', 3.0);
        """

    @Test("every past schema migrates to the latest one and keeps its rows", arguments: ResultsDatabase.migrationIdentifiers.dropLast())
    func fromPastSchema(version: String) throws {
        let fresh = try ResultsDatabase.inMemory().schemaSQL()
        let store = try ResultsDatabase.inMemory(migratedUpTo: version)
        let migrations = ResultsDatabase.migrationIdentifiers
        #expect(try store.appliedMigrations() == Array(migrations[...migrations.firstIndex(of: version)!]))
        try store.execute(sql: Self.v1Fixture)   // every past schema has the v1 tables
        try store.migrate()
        #expect(try store.appliedMigrations() == migrations)
        #expect(try store.schemaSQL() == fresh)
        let experiment = try #require(try store.experiment(named: "old"))
        let runs = try store.runs(experimentID: experiment.id)
        #expect(runs.count == 1 && runs[0].status == .finished)
        #expect(try store.matrixRows(experimentID: experiment.id).count == 2)
        #expect(try store.metrics(runID: 1, key: "loss").map(\.value) == [2.5])
        #expect(try store.params(runID: 1) == ["train.epochs": "2"])
        #expect(try store.latestCheckpoint(runID: 1)?.path == "c.ckpt")
        let gaps = try store.readOnlyQuery(sql: "SELECT ROUND(fg_gap, 6) FROM cell_gaps WHERE probe = 'train-view'")
        #expect(gaps.rows == [[.real(0.3)]])
    }

    @Test("migrating twice is a no-op")
    func idempotent() throws {
        let store = try ResultsDatabase.inMemory()
        let before = try store.schemaSQL()
        try store.migrate()
        #expect(try store.schemaSQL() == before)
    }

    @Test("a file written by a newer schema is refused, a read-only open of an old one asks for a migration")
    func versionChecks() throws {
        let path = temporaryDatabasePath("versions")
        defer { removeDatabase(path) }
        do {
            let store = try ResultsDatabase(path: path)
            try store.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v999')")
        }
        #expect(throws: ResultsStoreError.self) { try ResultsDatabase(path: path) }
        #expect(throws: ResultsStoreError.self) { try ResultsDatabase(path: path, mode: .readOnly) }

        let old = temporaryDatabasePath("old")
        defer { removeDatabase(old) }
        #expect(throws: ResultsStoreError.missingDatabase(path: old)) { try ResultsDatabase(path: old, mode: .readOnly) }
        do { _ = try ResultsDatabase.file(path: old, migratedUpTo: "v1") }
        do {
            _ = try ResultsDatabase(path: old, mode: .readOnly)
            Issue.record("expected schemaTooOld")
        } catch let error as ResultsStoreError {
            #expect(error == .schemaTooOld(applied: ["v1"], known: ResultsDatabase.migrationIdentifiers))
            #expect(error.description.contains("open it read-write once"))
        }
        let migrated = try ResultsDatabase(path: old)
        #expect(try migrated.appliedMigrations() == ResultsDatabase.migrationIdentifiers)
    }

    @Test("v3 adds one fixed-probe series per probe view to matrix_series, for rows stored under v2")
    func fixedProbeSeries() throws {
        let store = try ResultsDatabase.inMemory(migratedUpTo: "v2")
        // Raw SQL: what a v2 build wrote (the API writes later columns).
        var sql = "INSERT INTO experiments (id, name, spec_sha256, created_at) VALUES (1, 'e', 's', 1.0);"
        for (id, trainView) in [(1, "full"), (2, "foreground")] {
            sql += """
                INSERT INTO runs (id, experiment_id, cell_key, dataset, train_view, method, regularizer, seed, status,
                                  config_json, config_sha256, attempts, started_at, finished_at)
                    VALUES (\(id), 1, '\(trainView)/simclr/none/seed0', 'd', '\(trainView)', 'simclr', 'none', 0, 'finished', '{}', '\(trainView)', 1, 2.0, 3.0);
                INSERT INTO evaluations (run_id, protocol, probe_view, test_view, split, top1, top5, n, feature_source, created_at)
                    VALUES (\(id), 'linear', 'full', 'full', 'test', 0.5, 1.0, 10, 'backbone', 4.0),
                           (\(id), 'linear', 'foreground', 'full', 'test', 0.5, 1.0, 10, 'backbone', 4.0);
                """
        }
        try store.execute(sql: sql)
        try store.migrate()
        let experiment = try #require(try store.experiment(named: "e"))
        #expect(try store.appliedMigrations() == ResultsDatabase.migrationIdentifiers)
        // Under the fixed full probe both encoders appear; under the train-view probe each once with its own probe.
        let full = try store.matrixRows(experimentID: experiment.id, probe: .fixed("full"))
        #expect(Set(full.map(\.cell.trainView)) == ["full", "foreground"] && full.allSatisfy { $0.probeView == "full" })
        let trainView = try store.matrixRows(experimentID: experiment.id, probe: .trainView)
        #expect(trainView.count == 2 && trainView.allSatisfy { $0.probeView == $0.cell.trainView })
        #expect(ProbeSeries(rawValue: "foreground") == .fixed("foreground") && ProbeSeries(rawValue: "train-view") == .trainView)
    }

    @Test("files are opened in WAL mode with a busy timeout")
    func walMode() throws {
        let path = temporaryDatabasePath("wal")
        defer { removeDatabase(path) }
        let store = try ResultsDatabase(path: path)
        #expect(try store.journalMode() == "wal")
        let timeout = try store.readOnlyQuery(sql: "PRAGMA busy_timeout")
        #expect(timeout.rows.first?.first == .integer(10_000))
    }

    @Test("SHA-256 of the FIPS 180-4 test vectors, fed at once and in pieces")
    func sha256() {
        #expect(ContentHash.sha256Hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(ContentHash.sha256Hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(ContentHash.sha256Hex(Data(long.utf8)) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var hasher = SHA256Hasher()
        let bytes = Array(String(repeating: long, count: 7).utf8)
        var i = 0
        for size in [1, 3, 63, 64, 65, 100, 1000] where i < bytes.count {
            hasher.update(bytes[i..<min(bytes.count, i + size)])
            i += size
        }
        if i < bytes.count { hasher.update(bytes[i...]) }
        #expect(hasher.finalizeHex() == ContentHash.sha256Hex(Data(bytes)))
    }
}
