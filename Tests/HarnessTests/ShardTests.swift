import Foundation
import Testing
@testable import Harness

/// `--shard I/N` partitions a matrix: every cell in exactly one slice, slices balanced, the same
/// slices whatever the order the cells come in; the Slurm scripts run one slice per array task.
@Suite("Shards and Slurm scripts")
struct ShardTests {
    static let spec = """
    name: shards
    dataset:
      builtin: {classes: 3, perClass: 4, testPerClass: 2, size: 32, seed: 1}
    model: {width: 4}
    methods: [simclr, byol]
    regularizers: [none, icl-msr]
    trainViews: [full, foreground]
    seeds: [0, 1]
    sweep: {train.epochs: [1, 2]}
    """

    @Test(arguments: 1...7)
    func everyCellIsInExactlyOneSlice(count: Int) throws {
        let keys = try ExperimentSpec.parse(Self.spec, source: "shards.yaml").cells().map(\.key)
        #expect(keys.count == 32)
        var seen: [String: Int] = [:]
        var sizes: [Int] = []
        for index in 0..<count {
            let slice = try Shard(index: index, count: count).select(keys)
            sizes.append(slice.count)
            for key in slice { seen[key, default: 0] += 1 }
            // The slice does not depend on the order the keys come in.
            #expect(try Shard(index: index, count: count).select(keys.reversed()) == slice)
        }
        #expect(seen.count == keys.count && seen.values.allSatisfy { $0 == 1 })
        #expect(sizes.max()! - sizes.min()! <= 1)
    }

    @Test func oneCellPerSliceWhenTheCountIsTheCellCount() throws {
        let keys = ["b", "c", "a"]
        #expect(try (0..<3).map { try Shard(index: $0, count: 3).select(keys) } == [["a"], ["b"], ["c"]])
        #expect(Shard.position(of: "c", in: keys) == 2)
    }

    @Test(arguments: ["3", "3/3", "-1/2", "a/b", "1/0", "1/2/3", ""])
    func malformedShardsAreRefused(text: String) {
        #expect(throws: SpecError.self) { try Shard(parsing: text) }
    }

    @Test func arraySpecCompressesRanges() {
        #expect(SlurmScripts.arraySpec([5, 0, 1, 2, 7, 8, 3]) == "0-3,5,7-8")
        #expect(SlurmScripts.arraySpec([4]) == "4")
        #expect(SlurmScripts.arraySpec([]) == "")
    }

    @Test func scriptsRunOneShardPerTaskAndMergeAfterwards() {
        var inputs = SlurmScripts.Inputs(experiment: "tiny", executable: "/opt/backdrop bin/backdrop", specPath: "/srv/exp/tiny.yaml",
                                         overrides: ["train.epochs=2", "name=it's"], database: "/srv/exp/Results/main.sqlite",
                                         resultsDirectory: "/srv/exp/Results", cellCount: 4)
        inputs.slurmArguments = ["--partition=cpu", "--time=01:00:00"]
        inputs.maxParallel = 2
        let scripts = SlurmScripts(inputs, tasks: [(0, "a"), (1, "b"), (3, "d")])
        #expect(scripts.folder == "/srv/exp/Results/slurm/tiny")
        #expect(scripts.array.contains("#SBATCH --array=0-1,3%2\n"))
        #expect(scripts.array.contains("#SBATCH --output=/srv/exp/Results/slurm/tiny/logs/%a.out\n"))
        #expect(scripts.array.contains("#SBATCH --partition=cpu\n#SBATCH --time=01:00:00\n"))
        #expect(scripts.array.contains("exec '/opt/backdrop bin/backdrop' reproduce /srv/exp/tiny.yaml --shard \"${SLURM_ARRAY_TASK_ID}/4\""))
        #expect(scripts.array.contains("--db /srv/exp/Results/slurm/tiny/shards/\"${SLURM_ARRAY_TASK_ID}.sqlite\" --results-dir /srv/exp/Results "
            + "--set train.epochs=2 --set 'name=it'\\''s'\n"))
        #expect(scripts.merge.contains("'/opt/backdrop bin/backdrop' merge --into /srv/exp/Results/main.sqlite \"${shards[@]}\""))
        #expect(scripts.merge.contains("claims --db /srv/exp/Results/main.sqlite --experiment tiny"))
        #expect(scripts.merge.contains("report --db /srv/exp/Results/main.sqlite --experiment tiny --out /srv/exp/Results/reports"))
        #expect(scripts.merge.contains("#SBATCH --partition=cpu"))
    }
}
