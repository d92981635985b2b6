/// v6 of the schema (see `Schema`): `runs` rebuilt so a run can be `interrupted`.
extension Schema {
    static let v6 = v6Rebuild + experimentCellsView + matrixViews

    /// v6: the views that read `runs` go, `runs` is rebuilt with the `interrupted` status, its indexes return.
    static let v6Rebuild = """
        DROP VIEW cell_gaps;
        DROP VIEW matrix_summary;
        DROP VIEW matrix_series;
        DROP VIEW matrix_cells;
        DROP VIEW experiment_cells;

        CREATE TABLE runs_v6 (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
            cell_key TEXT NOT NULL,
            dataset TEXT NOT NULL,
            train_view TEXT NOT NULL,
            method TEXT NOT NULL,
            regularizer TEXT NOT NULL,
            seed INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'finished', 'failed', 'interrupted')),
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
            sweep TEXT NOT NULL DEFAULT '',
            UNIQUE (experiment_id, cell_key)
        );
        INSERT INTO runs_v6 SELECT * FROM runs;
        DROP TABLE runs;
        ALTER TABLE runs_v6 RENAME TO runs;
        CREATE INDEX runs_experiment_status ON runs(experiment_id, status);
        CREATE INDEX runs_identity ON runs(config_sha256, dataset_sha256, status);

        """
}
