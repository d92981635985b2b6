import Foundation
import TestSupport
import Testing

/// `--threads N` / `BACKDROP_THREADS=N`: refused by name when not a whole number ≥ 1, recorded in
/// the run's provenance (`threads` next to `cpus`), shared among `reproduce --jobs`, and without
/// effect on the results.
@Suite struct ThreadsCommandTests {
    /// A tiny generated dataset in a fresh folder (removed by the caller).
    static func dataset(_ name: String) throws -> (dir: URL, data: String) {
        let dir = temporaryDirectory(name)
        let data = dir.appendingPathComponent("data").path
        let generate = try Executables.run("backdrop", ["dataset", "generate", "--out", data, "--classes", "2", "--per-class", "4",
                                                        "--test-per-class", "2", "--size", "32"])
        #expect(generate.status == 0, "\(generate.stderr)")
        return (dir, data)
    }

    @Test func badThreadCountsAreRefusedNamingTheOptionOrVariable() throws {
        let (dir, data) = try Self.dataset("threads-invalid")
        defer { try? FileManager.default.removeItem(at: dir) }
        let train = ["train", "--data", data] + TrainRecordingCommandTests.tiny
        for bad in ["0", "-3"] {
            let r = try Executables.run("backdrop", train + ["--threads=\(bad)"])
            #expect(r.status != 0 && r.stderr.contains("--threads \(bad): the number of worker threads must be at least 1"), "\(r.stderr)")
            #expect(!r.stderr.contains("training simclr"), "\(r.stderr)")
        }
        let word = try Executables.run("backdrop", train + ["--threads", "four"])
        #expect(word.status != 0 && word.stderr.contains("--threads"), "\(word.stderr)")
        let env = try Executables.run("backdrop", train, environment: ["BACKDROP_THREADS": "four"])
        #expect(env.status != 0 && env.stderr.contains("BACKDROP_THREADS=four: expected a whole number of worker threads"), "\(env.stderr)")
        #expect(env.stderr.contains("unset it"), "\(env.stderr)")

        let (rdir, args, _) = try ReproduceCommandTests.folder("threads-invalid-reproduce")
        defer { try? FileManager.default.removeItem(at: rdir) }
        let reproduce = try Executables.run("backdrop", ["reproduce"] + args + ["--threads", "0"])
        #expect(reproduce.status != 0 && reproduce.stderr.contains("--threads 0:"), "\(reproduce.stderr)")
        let reproduceEnv = try Executables.run("backdrop", ["reproduce"] + args + ["--dry-run"], environment: ["BACKDROP_THREADS": "0"])
        #expect(reproduceEnv.status != 0 && reproduceEnv.stderr.contains("BACKDROP_THREADS=0:"), "\(reproduceEnv.stderr)")
        let slurm = try Executables.run("backdrop", ["reproduce"] + args + ["--slurm", "--dry-run", "--threads", "2"])
        #expect(slurm.status != 0 && slurm.stderr.contains("--cpus-per-task"), "\(slurm.stderr)")
        let bench = try Executables.run("backdrop-bench", ["simclr-step", "--threads", "0"])
        #expect(bench.status != 0 && bench.stderr.contains("--threads 0:"), "\(bench.stderr)")
    }

    /// What a `train --db` run stored that must not depend on the thread count: its losses and
    /// other training metrics (not the timings) and its evaluations.
    static func results(_ db: String) throws -> String {
        let metrics = try ReproduceCommandTests.scalar(db, """
            SELECT group_concat(key || '@' || step || '=' || quote(value), ';') FROM
              (SELECT key, step, value FROM metrics WHERE key NOT IN ('images_per_s', 'input_wait_s') ORDER BY key, step)
            """)
        let evaluations = try ReproduceCommandTests.scalar(db, """
            SELECT group_concat(protocol || '/' || probe_view || '/' || test_view || '/' || split || '=' || quote(top1) || ',' || quote(top5), ';')
              FROM (SELECT * FROM evaluations ORDER BY protocol, probe_view, test_view, split)
            """)
        #expect(!metrics.isEmpty && !evaluations.isEmpty)
        return metrics + "\n" + evaluations
    }

    @Test func trainRecordsItsThreadsAndEndsOnTheSameResultsWithOneOrThree() throws {
        let (dir, data) = try Self.dataset("threads-train")
        defer { try? FileManager.default.removeItem(at: dir) }
        var stored: [String] = []
        for threads in ["1", "3"] {
            let db = dir.appendingPathComponent("t\(threads).sqlite").path
            let r = try Executables.run("backdrop", ["train", "--data", data, "--db", db, "--threads", threads] + TrainRecordingCommandTests.tiny)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try ReproduceCommandTests.scalar(db, "SELECT json_extract(versions_json, '$.threads') FROM runs") == threads)
            #expect(try ReproduceCommandTests.scalar(db, "SELECT CAST(json_extract(versions_json, '$.cpus') AS INTEGER) > 0 FROM runs") == "1")
            stored.append(try Self.results(db))
        }
        #expect(stored[0] == stored[1])
        // BACKDROP_THREADS sets the count when --threads is absent.
        let db = dir.appendingPathComponent("env.sqlite").path
        let r = try Executables.run("backdrop", ["train", "--data", data, "--db", db] + TrainRecordingCommandTests.tiny,
                                    environment: ["BACKDROP_THREADS": "2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try ReproduceCommandTests.scalar(db, "SELECT json_extract(versions_json, '$.threads') FROM runs") == "2")
        #expect(try Self.results(db) == stored[0])
    }

    /// `reproduce --jobs 2 --threads 5`: each cell's child gets ⌊5 / 2⌋ = 2 threads.
    @Test func reproduceSharesItsThreadsAmongItsJobs() throws {
        let (dir, args, db) = try ReproduceCommandTests.folder("threads-jobs")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Executables.run("backdrop", ["reproduce"] + args + ["--jobs", "2", "--threads", "5"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try ReproduceCommandTests.scalar(db, "SELECT group_concat(json_extract(versions_json, '$.threads'), '+') FROM runs") == "2+2")
        // Under Slurm each array task finds its own allocation: the scripts set no thread count.
        let dry = try Executables.run("backdrop", ["reproduce"] + args + ["--set", "seeds=[1]", "--slurm", "--dry-run"])
        #expect(dry.status == 0 && dry.stdout.contains("#SBATCH --array="), "\(dry.stdout)\(dry.stderr)")
        #expect(!dry.stdout.contains("--threads") && !dry.stdout.contains("BACKDROP_THREADS"), "\(dry.stdout)")
    }
}
