import Foundation

/// The two batch scripts of a Slurm reproduction (`backdrop reproduce SPEC --slurm`):
///
/// - `array.sbatch`: one array task per unfinished cell; task I runs `backdrop reproduce SPEC
///   --shard I/N` (N = the matrix's cell count, so slice I is the I-th cell in key order) into its
///   own database `shards/I.sqlite` (SQLite must not be shared between hosts), log `logs/I.out`;
/// - `merge.sbatch`: submitted with `--dependency=afterany:<array job>`, it merges every shard into
///   the main database (`backdrop merge`), judges the spec's claims and renders the report.
///
/// Paths are absolute, so the jobs do not depend on the folder they start in.
public struct SlurmScripts: Sendable, Equatable {
    /// The experiment's Slurm folder, `<results>/slurm/<experiment>/`.
    public var folder: String
    /// Array task index → cell key, in index order.
    public var tasks: [(index: Int, cellKey: String)]
    public var array: String
    public var merge: String

    public static func == (a: SlurmScripts, b: SlurmScripts) -> Bool {
        a.folder == b.folder && a.array == b.array && a.merge == b.merge && a.tasks.map(\.index) == b.tasks.map(\.index)
            && a.tasks.map(\.cellKey) == b.tasks.map(\.cellKey)
    }

    /// What the scripts run and where.
    public struct Inputs: Sendable {
        public var experiment: String
        /// Absolute paths of the `backdrop` executable, the spec, the main database, the results folder.
        public var executable: String
        public var specPath: String
        public var overrides: [String]
        public var database: String
        public var resultsDirectory: String
        /// The matrix's cell count (N of `--shard I/N`).
        public var cellCount: Int
        /// Extra `#SBATCH` options for both jobs (`--partition=…`, `--time=…`, `--account=…`).
        public var slurmArguments: [String] = []
        /// At most this many array tasks at once (`%N`); nil: as many as Slurm allows.
        public var maxParallel: Int? = nil

        public init(experiment: String, executable: String, specPath: String, overrides: [String], database: String,
                    resultsDirectory: String, cellCount: Int) {
            self.experiment = experiment
            self.executable = executable
            self.specPath = specPath
            self.overrides = overrides
            self.database = database
            self.resultsDirectory = resultsDirectory
            self.cellCount = cellCount
        }
    }

    public static func folder(resultsDirectory: String, experiment: String) -> String {
        URL(fileURLWithPath: resultsDirectory).appendingPathComponent("slurm").appendingPathComponent(experiment).path
    }

    /// - Parameter tasks: array task index → cell key (the cells to run).
    public init(_ inputs: Inputs, tasks: [(index: Int, cellKey: String)]) {
        let folder = Self.folder(resultsDirectory: inputs.resultsDirectory, experiment: inputs.experiment)
        self.folder = folder
        self.tasks = tasks
        let q = ShellQuoting.quote
        let sets = inputs.overrides.flatMap { ["--set", $0] }.map(q).joined(separator: " ")
        let extra = inputs.slurmArguments.map { "#SBATCH \($0)" }
        let range = Self.arraySpec(tasks.map(\.index)) + (inputs.maxParallel.map { "%\($0)" } ?? "")
        array = ([
            "#!/bin/bash",
            "# Backdrop: one array task per unfinished cell of experiment \(inputs.experiment); task I runs slice I/\(inputs.cellCount)",
            "# (the I-th cell in key order) into its own database. Written by: backdrop reproduce --slurm.",
            "#SBATCH --job-name=\(q("backdrop-\(inputs.experiment)"))",
            "#SBATCH --array=\(range)",
            "#SBATCH --output=\(q(folder + "/logs/%a.out"))",
        ] + extra + [
            "set -euo pipefail",
            "mkdir -p \(q(folder + "/shards"))",
            "exec \(q(inputs.executable)) reproduce \(q(inputs.specPath)) --shard \"${SLURM_ARRAY_TASK_ID}/\(inputs.cellCount)\" \\",
            "  --db \(q(folder + "/shards"))/\"${SLURM_ARRAY_TASK_ID}.sqlite\" --results-dir \(q(inputs.resultsDirectory))"
                + (sets.isEmpty ? "" : " \(sets)"),
        ]).joined(separator: "\n") + "\n"
        let exe = q(inputs.executable), db = q(inputs.database), name = q(inputs.experiment)
        merge = ([
            "#!/bin/bash",
            "# Backdrop: after the array of experiment \(inputs.experiment) ends (however its tasks ended), merge its shard",
            "# databases into the main database, judge the spec's claims and render the report.",
            "#SBATCH --job-name=\(q("backdrop-merge-\(inputs.experiment)"))",
            "#SBATCH --output=\(q(folder + "/logs/merge.out"))",
        ] + extra + [
            "set -euo pipefail",
            "shopt -s nullglob",
            "shards=(\(q(folder + "/shards"))/*.sqlite)",
            "if [ ${#shards[@]} -eq 0 ]; then echo \"no shard databases in \(folder)/shards\" >&2; exit 1; fi",
            "\(exe) merge --into \(db) \"${shards[@]}\"",
            "\(exe) claims --db \(db) --experiment \(name)",
            "\(exe) report --db \(db) --experiment \(name) --out \(q(URL(fileURLWithPath: inputs.resultsDirectory).appendingPathComponent("reports").path))",
            "echo \"merged into \(inputs.database)\"",
        ]).joined(separator: "\n") + "\n"
    }

    /// `0-3,5,7-8`: the sorted indices as Slurm's `--array` ranges.
    public static func arraySpec(_ indices: [Int]) -> String {
        var parts: [String] = []
        var sorted = Array(Set(indices)).sorted()[...]
        while let start = sorted.popFirst() {
            var end = start
            while sorted.first == end + 1 { end = sorted.popFirst()! }
            parts.append(end == start ? "\(start)" : "\(start)-\(end)")
        }
        return parts.joined(separator: ",")
    }
}

/// Quoting for POSIX shells: words of safe characters as they are, others in single quotes.
public enum ShellQuoting {
    public static func quote(_ word: String) -> String {
        if !word.isEmpty, word.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=,:+@%".contains($0) }), word.allSatisfy(\.isASCII) {
            return word
        }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
