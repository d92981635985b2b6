import GRDB

/// The results database schema as a list of frozen, numbered migrations.
///
/// A migration is never edited once it has shipped: a schema change is a new migration appended
/// to the list (`"v3"`, …). Migrations use string table and column names only, never the
/// record types, so that they keep meaning what they meant when they were written.
///
/// - `v1`: the six tables (`experiments`, `runs`, `params`, `metrics`, `evaluations`,
///   `checkpoints`) and their indexes.
/// - `v2`: the canonical views of the matrix (`matrix_cells`, `matrix_series`, `matrix_summary`,
///   `cell_gaps`). Views live in their own migrations so a later version can replace them
///   (`DROP VIEW` + `CREATE VIEW`) without touching data.
/// - `v3`: `matrix_series` gains one fixed-probe series per probe view (`probe = 'full'`: every
///   row whose probe was fitted on full images, whatever the cell's train view), so encoders
///   trained on different views can be compared under the same probe; the views that read it are
///   recreated unchanged.
/// - `v4`: experiment identity and run reuse. `experiments` gains `spec_source` (the spec file's
///   text as read), `overrides_json` (the `--set` assignments, a JSON list) and `cell_count` (the
///   matrix size); `runs` gains `sweep` (the cell's swept values, `key=value,…`). A run is
///   identified by its config and dataset hashes: an experiment whose cell finished identically
///   elsewhere links that run (`experiment_runs`) instead of training it again. `experiment_cells`
///   is every experiment's membership — its own runs, less the cell keys it links, plus its
///   links — and the matrix views read through it, so a linked run appears under each experiment
///   that uses it, with that experiment's cell key and sweep label.
/// - `v5`: `claims` — the verdicts of an experiment's stated claims (`claims:` of its spec): one
///   row per claim with its metric, direction, estimate and 95% interval, pairs or sample size,
///   whether the seeds were paired, the two-sided p-value, the Holm-adjusted p-value and the
///   verdict. Judging an experiment again replaces its rows.
/// - `v6`: a run can be `interrupted` (stopped by the user with Ctrl-C: its claim released, its
///   last checkpoint recorded; the next reproduction resumes it). SQLite cannot change a CHECK
///   constraint, so `runs` is rebuilt with the same columns and rows and its indexes and the
///   views that read it are recreated unchanged.
///
/// Timestamps are `REAL` seconds since the Unix epoch (`datetime(started_at, 'unixepoch')` shows
/// them); booleans are `INTEGER` 0/1; JSON columns are `TEXT` holding a JSON object.
enum Schema {
    /// Identifiers of every migration, oldest first.
    static let migrationIdentifiers = ["v1", "v2", "v3", "v4", "v5", "v6"]

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: v1)
        }
        migrator.registerMigration("v2") { db in
            try db.execute(sql: v2)
        }
        migrator.registerMigration("v3") { db in
            try db.execute(sql: v3)
        }
        migrator.registerMigration("v4") { db in
            try db.execute(sql: v4)
        }
        migrator.registerMigration("v5") { db in
            try db.execute(sql: v5)
        }
        // Rebuilds `runs` (its CHECK constraint cannot be altered in place): foreign keys are
        // off while the table is swapped and fully checked before the migration commits.
        migrator.registerMigration("v6", foreignKeyChecks: .deferred) { db in
            try db.execute(sql: v6)
        }
        return migrator
    }

    static let v1 = """
        CREATE TABLE experiments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            spec_path TEXT NOT NULL DEFAULT '',
            spec_sha256 TEXT NOT NULL,
            spec_text TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            UNIQUE (name, spec_sha256)
        );
        CREATE INDEX experiments_name ON experiments(name);

        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
            cell_key TEXT NOT NULL,
            dataset TEXT NOT NULL,
            train_view TEXT NOT NULL,
            method TEXT NOT NULL,
            regularizer TEXT NOT NULL,
            seed INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'finished', 'failed')),
            config_json TEXT NOT NULL,
            config_sha256 TEXT NOT NULL,
            git_commit TEXT,
            git_dirty INTEGER,
            dataset_sha256 TEXT,
            host TEXT,
            versions_json TEXT NOT NULL DEFAULT '{}',
            owner_host TEXT,
            owner_pid INTEGER,
            owner_token TEXT,
            heartbeat_at REAL,
            attempts INTEGER NOT NULL DEFAULT 0,
            started_at REAL,
            finished_at REAL,
            error TEXT,
            bad_samples INTEGER NOT NULL DEFAULT 0,
            UNIQUE (experiment_id, cell_key)
        );
        CREATE INDEX runs_experiment_status ON runs(experiment_id, status);

        CREATE TABLE params (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (run_id, key)
        ) WITHOUT ROWID;

        CREATE TABLE metrics (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            step INTEGER NOT NULL,
            epoch INTEGER NOT NULL,
            value REAL,
            wall_time REAL NOT NULL,
            UNIQUE (run_id, key, step)
        );

        CREATE TABLE evaluations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            protocol TEXT NOT NULL,
            probe_view TEXT NOT NULL,
            test_view TEXT NOT NULL,
            split TEXT NOT NULL,
            top1 REAL NOT NULL,
            top5 REAL NOT NULL,
            top_k INTEGER NOT NULL DEFAULT 5,
            n INTEGER NOT NULL,
            train_count INTEGER,
            class_count INTEGER,
            feature_dimension INTEGER,
            k INTEGER,
            temperature REAL,
            feature_source TEXT NOT NULL,
            protocol_params TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            UNIQUE (run_id, protocol, probe_view, test_view, split)
        );
        CREATE INDEX evaluations_test_view ON evaluations(protocol, test_view);

        CREATE TABLE checkpoints (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            epoch INTEGER NOT NULL,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            created_at REAL NOT NULL,
            UNIQUE (run_id, epoch)
        );
        """

    static let v2 = """
        CREATE VIEW matrix_cells AS
        SELECT e.id AS experiment_id, e.name AS experiment, r.id AS run_id, r.cell_key, r.dataset,
               r.train_view, r.method, r.regularizer, r.seed,
               v.protocol, v.probe_view, v.test_view, v.split, v.top1, v.top5, v.top_k, v.n,
               v.k, v.temperature, v.feature_source, v.protocol_params
        FROM evaluations v
        JOIN runs r ON r.id = v.run_id
        JOIN experiments e ON e.id = r.experiment_id
        WHERE r.status = 'finished';

        CREATE VIEW matrix_series AS
        SELECT *, 'train-view' AS probe FROM matrix_cells WHERE probe_view = train_view
        UNION ALL
        SELECT *, 'same-as-test' AS probe FROM matrix_cells WHERE probe_view = test_view;

        CREATE VIEW matrix_summary AS
        SELECT experiment_id, experiment, dataset, method, train_view, regularizer, protocol, probe,
               split, test_view,
               COUNT(*) AS n_seeds,
               AVG(top1) AS top1_mean,
               CASE WHEN COUNT(*) > 1
                    THEN (SUM(top1 * top1) - SUM(top1) * SUM(top1) / COUNT(*)) / (COUNT(*) - 1) END AS top1_var,
               AVG(top5) AS top5_mean,
               CASE WHEN COUNT(*) > 1
                    THEN (SUM(top5 * top5) - SUM(top5) * SUM(top5) / COUNT(*)) / (COUNT(*) - 1) END AS top5_var
        FROM matrix_series
        GROUP BY experiment_id, dataset, method, train_view, regularizer, protocol, probe, split, test_view;

        CREATE VIEW cell_gaps AS
        SELECT experiment_id, experiment, run_id, cell_key, dataset, method, train_view, regularizer, seed,
               protocol, probe, split,
               MAX(CASE WHEN test_view = 'full' THEN top1 END) AS full_top1,
               MAX(CASE WHEN test_view = 'foreground' THEN top1 END) AS foreground_top1,
               MAX(CASE WHEN test_view = 'only-background' THEN top1 END) AS only_background_top1,
               MAX(CASE WHEN test_view = 'mixed-same' THEN top1 END) AS mixed_same_top1,
               MAX(CASE WHEN test_view = 'mixed-random' THEN top1 END) AS mixed_random_top1,
               MAX(CASE WHEN test_view = 'full' THEN top1 END)
                 - MAX(CASE WHEN test_view = 'foreground' THEN top1 END) AS fg_gap,
               MAX(CASE WHEN test_view = 'mixed-same' THEN top1 END)
                 - MAX(CASE WHEN test_view = 'mixed-random' THEN top1 END) AS bg_gap
        FROM matrix_series
        GROUP BY run_id, protocol, probe, split;
        """

    static let v3 = """
        DROP VIEW cell_gaps;
        DROP VIEW matrix_summary;
        DROP VIEW matrix_series;

        CREATE VIEW matrix_series AS
        SELECT *, 'train-view' AS probe FROM matrix_cells WHERE probe_view = train_view
        UNION ALL
        SELECT *, 'same-as-test' AS probe FROM matrix_cells WHERE probe_view = test_view
        UNION ALL
        SELECT *, probe_view AS probe FROM matrix_cells;

        CREATE VIEW matrix_summary AS
        SELECT experiment_id, experiment, dataset, method, train_view, regularizer, protocol, probe,
               split, test_view,
               COUNT(*) AS n_seeds,
               AVG(top1) AS top1_mean,
               CASE WHEN COUNT(*) > 1
                    THEN (SUM(top1 * top1) - SUM(top1) * SUM(top1) / COUNT(*)) / (COUNT(*) - 1) END AS top1_var,
               AVG(top5) AS top5_mean,
               CASE WHEN COUNT(*) > 1
                    THEN (SUM(top5 * top5) - SUM(top5) * SUM(top5) / COUNT(*)) / (COUNT(*) - 1) END AS top5_var
        FROM matrix_series
        GROUP BY experiment_id, dataset, method, train_view, regularizer, protocol, probe, split, test_view;

        CREATE VIEW cell_gaps AS
        SELECT experiment_id, experiment, run_id, cell_key, dataset, method, train_view, regularizer, seed,
               protocol, probe, split,
               MAX(CASE WHEN test_view = 'full' THEN top1 END) AS full_top1,
               MAX(CASE WHEN test_view = 'foreground' THEN top1 END) AS foreground_top1,
               MAX(CASE WHEN test_view = 'only-background' THEN top1 END) AS only_background_top1,
               MAX(CASE WHEN test_view = 'mixed-same' THEN top1 END) AS mixed_same_top1,
               MAX(CASE WHEN test_view = 'mixed-random' THEN top1 END) AS mixed_random_top1,
               MAX(CASE WHEN test_view = 'full' THEN top1 END)
                 - MAX(CASE WHEN test_view = 'foreground' THEN top1 END) AS fg_gap,
               MAX(CASE WHEN test_view = 'mixed-same' THEN top1 END)
                 - MAX(CASE WHEN test_view = 'mixed-random' THEN top1 END) AS bg_gap
        FROM matrix_series
        GROUP BY run_id, protocol, probe, split;
        """

    static let v4 = v4Tables + experimentCellsView + v4DroppedViews + matrixViews

    /// v4: the identity columns, the run links and their indexes.
    static let v4Tables = """
        ALTER TABLE experiments ADD COLUMN spec_source TEXT NOT NULL DEFAULT '';
        ALTER TABLE experiments ADD COLUMN overrides_json TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE experiments ADD COLUMN cell_count INTEGER;
        ALTER TABLE runs ADD COLUMN sweep TEXT NOT NULL DEFAULT '';
        CREATE INDEX runs_identity ON runs(config_sha256, dataset_sha256, status);

        CREATE TABLE experiment_runs (
            experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
            cell_key TEXT NOT NULL,
            sweep TEXT NOT NULL DEFAULT '',
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            linked_at REAL NOT NULL,
            PRIMARY KEY (experiment_id, cell_key)
        );
        CREATE INDEX experiment_runs_run ON experiment_runs(run_id);

        """

    /// The `experiment_cells` view of v4 (recreated unchanged by v6).
    static let experimentCellsView = """
        CREATE VIEW experiment_cells AS
        SELECT r.experiment_id, r.cell_key, r.sweep, r.id AS run_id, 0 AS linked FROM runs r
        WHERE NOT EXISTS (SELECT 1 FROM experiment_runs l WHERE l.experiment_id = r.experiment_id AND l.cell_key = r.cell_key)
        UNION ALL
        SELECT l.experiment_id, l.cell_key, l.sweep, l.run_id, 1 AS linked FROM experiment_runs l;

        """

    /// v4 replaces the matrix views of v3.
    static let v4DroppedViews = """
        DROP VIEW cell_gaps;
        DROP VIEW matrix_summary;
        DROP VIEW matrix_series;
        DROP VIEW matrix_cells;

        """

    /// The matrix views as v4 defines them (recreated unchanged by v6).
    static let matrixViews = """
        CREATE VIEW matrix_cells AS
        SELECT c.experiment_id, e.name AS experiment, r.id AS run_id, c.cell_key, c.sweep, c.linked, r.dataset,
               r.train_view, r.method, r.regularizer, r.seed,
               v.protocol, v.probe_view, v.test_view, v.split, v.top1, v.top5, v.top_k, v.n,
               v.k, v.temperature, v.feature_source, v.protocol_params
        FROM evaluations v
        JOIN runs r ON r.id = v.run_id
        JOIN experiment_cells c ON c.run_id = r.id
        JOIN experiments e ON e.id = c.experiment_id
        WHERE r.status = 'finished';

        CREATE VIEW matrix_series AS
        SELECT *, 'train-view' AS probe FROM matrix_cells WHERE probe_view = train_view
        UNION ALL
        SELECT *, 'same-as-test' AS probe FROM matrix_cells WHERE probe_view = test_view
        UNION ALL
        SELECT *, probe_view AS probe FROM matrix_cells;

        CREATE VIEW matrix_summary AS
        SELECT experiment_id, experiment, sweep, dataset, method, train_view, regularizer, protocol, probe,
               split, test_view,
               COUNT(*) AS n_seeds,
               AVG(top1) AS top1_mean,
               CASE WHEN COUNT(*) > 1
                    THEN (SUM(top1 * top1) - SUM(top1) * SUM(top1) / COUNT(*)) / (COUNT(*) - 1) END AS top1_var,
               AVG(top5) AS top5_mean,
               CASE WHEN COUNT(*) > 1
                    THEN (SUM(top5 * top5) - SUM(top5) * SUM(top5) / COUNT(*)) / (COUNT(*) - 1) END AS top5_var
        FROM matrix_series
        GROUP BY experiment_id, sweep, dataset, method, train_view, regularizer, protocol, probe, split, test_view;

        CREATE VIEW cell_gaps AS
        SELECT experiment_id, experiment, run_id, cell_key, sweep, dataset, method, train_view, regularizer, seed,
               protocol, probe, split,
               MAX(CASE WHEN test_view = 'full' THEN top1 END) AS full_top1,
               MAX(CASE WHEN test_view = 'foreground' THEN top1 END) AS foreground_top1,
               MAX(CASE WHEN test_view = 'only-background' THEN top1 END) AS only_background_top1,
               MAX(CASE WHEN test_view = 'mixed-same' THEN top1 END) AS mixed_same_top1,
               MAX(CASE WHEN test_view = 'mixed-random' THEN top1 END) AS mixed_random_top1,
               MAX(CASE WHEN test_view = 'full' THEN top1 END)
                 - MAX(CASE WHEN test_view = 'foreground' THEN top1 END) AS fg_gap,
               MAX(CASE WHEN test_view = 'mixed-same' THEN top1 END)
                 - MAX(CASE WHEN test_view = 'mixed-random' THEN top1 END) AS bg_gap
        FROM matrix_series
        GROUP BY experiment_id, cell_key, run_id, protocol, probe, split;
        """

    static let v5 = """
        CREATE TABLE claims (
            experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            metric TEXT NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('greater', 'less')),
            treatment TEXT NOT NULL DEFAULT '',
            baseline TEXT NOT NULL DEFAULT '',
            estimate REAL,
            lower REAL,
            upper REAL,
            n INTEGER NOT NULL,
            paired INTEGER NOT NULL,
            p_value REAL,
            adjusted_p REAL,
            verdict TEXT NOT NULL CHECK (verdict IN ('holds', 'contradicted', 'inconclusive')),
            judged_at REAL NOT NULL,
            PRIMARY KEY (experiment_id, name)
        );
        """
}
