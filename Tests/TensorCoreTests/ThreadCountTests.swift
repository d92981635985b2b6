import Foundation
import Synchronization
import Testing
@testable import TensorCore
import TestSupport

/// The default thread count comes from the CPUs this process may use (affinity mask, cgroup
/// quota); `--threads` and `BACKDROP_THREADS` override it; bad values are refused by name.
@Suite struct AvailableCPUsTests {
    @Test func cgroupV2CpuMax() {
        #expect(AvailableCPUs.cgroupV2Limit(cpuMax: "max 100000\n") == nil)
        #expect(AvailableCPUs.cgroupV2Limit(cpuMax: "200000 100000\n") == 2)
        #expect(AvailableCPUs.cgroupV2Limit(cpuMax: "150000 100000") == 2)    // ⌈1.5⌉
        #expect(AvailableCPUs.cgroupV2Limit(cpuMax: "50000 100000") == 1)     // half a CPU still runs one thread
        #expect(AvailableCPUs.cgroupV2Limit(cpuMax: "6400000 100000") == 64)
        #expect(AvailableCPUs.cgroupV2Limit(cpuMax: "") == nil)
        #expect(AvailableCPUs.cgroupV2Limit(cpuMax: "lots 100000") == nil)
        #expect(AvailableCPUs.cgroupV2Limit(cpuMax: "100000 0") == nil)
    }

    @Test func cgroupV1Quota() {
        #expect(AvailableCPUs.cgroupV1Limit(quota: "-1\n", period: "100000\n") == nil)
        #expect(AvailableCPUs.cgroupV1Limit(quota: "400000\n", period: "100000\n") == 4)
        #expect(AvailableCPUs.cgroupV1Limit(quota: "250000", period: "100000") == 3)
        #expect(AvailableCPUs.cgroupV1Limit(quota: "x", period: "100000") == nil)
    }

    @Test func affinityMaskCountsItsBits() {
        #expect(AvailableCPUs.count(affinityMask: [0b0000_0011, 0, 0b1000_0000]) == 3)   // CPUs 0, 1 and 23
        #expect(AvailableCPUs.count(affinityMask: [UInt8](repeating: 0xFF, count: 8)) == 64)
        #expect(AvailableCPUs.count(affinityMask: [0, 0, 0, 0]) == nil)
        #expect(AvailableCPUs.count(affinityMask: []) == nil)
    }

    @Test func cgroupPathsFromProcSelfCgroup() {
        let v2 = "0::/system.slice/slurmstepd.scope/job_42/step_0\n"
        #expect(AvailableCPUs.cgroupPath(procSelfCgroup: v2) == "/system.slice/slurmstepd.scope/job_42/step_0")
        #expect(AvailableCPUs.cgroupPath(procSelfCgroup: v2, controller: "cpu") == nil)
        let v1 = "12:cpuset:/slurm/uid_1/job_5\n4:cpu,cpuacct:/slurm/uid_1/job_5/step_0\n1:name=systemd:/\n"
        #expect(AvailableCPUs.cgroupPath(procSelfCgroup: v1, controller: "cpu") == "/slurm/uid_1/job_5/step_0")
        #expect(AvailableCPUs.cgroupPath(procSelfCgroup: v1) == nil)
        #expect(AvailableCPUs.cgroupFolders(mount: "/sys/fs/cgroup", path: "/a/b")
                == ["/sys/fs/cgroup/a/b", "/sys/fs/cgroup/a", "/sys/fs/cgroup"])
        #expect(AvailableCPUs.cgroupFolders(mount: "/sys/fs/cgroup", path: "/") == ["/sys/fs/cgroup"])
    }

    /// A file tree laid out like `/proc` and `/sys/fs/cgroup`: the tightest quota on the way up wins.
    @Test func theTightestQuotaOnTheCgroupOrItsAncestorsWins() throws {
        let root = temporaryDirectory("cgroup-tree")
        defer { try? FileManager.default.removeItem(at: root) }
        func write(_ path: String, _ text: String) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        try write("proc/self/cgroup", "0::/job/step\n")
        try write("sys/fs/cgroup/job/step/cpu.max", "max 100000\n")
        try write("sys/fs/cgroup/job/cpu.max", "300000 100000\n")
        try write("sys/fs/cgroup/cpu.max", "800000 100000\n")
        #expect(AvailableCPUs.cgroupLimit(fileSystemRoot: root.path) == 3)
        try write("sys/fs/cgroup/cpu.max", "100000 100000\n")
        #expect(AvailableCPUs.cgroupLimit(fileSystemRoot: root.path) == 1)
        #expect(AvailableCPUs.count(fileSystemRoot: root.path) == 1)

        let v1 = temporaryDirectory("cgroup-v1-tree")
        defer { try? FileManager.default.removeItem(at: v1) }
        try FileManager.default.createDirectory(at: v1.appendingPathComponent("sys/fs/cgroup/cpu,cpuacct/slurm/job"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: v1.appendingPathComponent("proc/self"), withIntermediateDirectories: true)
        try "4:cpu,cpuacct:/slurm/job\n".write(to: v1.appendingPathComponent("proc/self/cgroup"), atomically: true, encoding: .utf8)
        try "200000\n".write(to: v1.appendingPathComponent("sys/fs/cgroup/cpu,cpuacct/slurm/job/cpu.cfs_quota_us"), atomically: true, encoding: .utf8)
        try "100000\n".write(to: v1.appendingPathComponent("sys/fs/cgroup/cpu,cpuacct/slurm/job/cpu.cfs_period_us"), atomically: true, encoding: .utf8)
        #expect(AvailableCPUs.cgroupLimit(fileSystemRoot: v1.path) == 2)

        let empty = temporaryDirectory("cgroup-none")
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(AvailableCPUs.cgroupLimit(fileSystemRoot: empty.path) == nil)
    }

    @Test func thisProcessCountsAtLeastOneCPUAndNoMoreThanItsAffinity() {
        let n = AvailableCPUs.count()
        #expect(n >= 1)
        if let affinity = AvailableCPUs.affinityCount() { #expect(n <= affinity) }
        #expect(n <= max(1, ProcessInfo.processInfo.processorCount))
    }
}

@Suite struct ThreadSettingTests {
    @Test func theOptionWinsOverTheEnvironmentWhichWinsOverTheCPUs() throws {
        #expect(try ThreadSetting.resolve(option: 3, environment: ["BACKDROP_THREADS": "5"], available: { 7 }) == 3)
        #expect(try ThreadSetting.resolve(option: nil, environment: ["BACKDROP_THREADS": "5"], available: { 7 }) == 5)
        #expect(try ThreadSetting.resolve(option: nil, environment: ["BACKDROP_THREADS": " 5 "], available: { 7 }) == 5)
        #expect(try ThreadSetting.resolve(option: nil, environment: [:], available: { 7 }) == 7)
        // A valid option is used even when the environment holds a bad value.
        #expect(try ThreadSetting.resolve(option: 2, environment: ["BACKDROP_THREADS": "lots"], available: { 7 }) == 2)
    }

    @Test func badValuesAreRefusedNamingTheOptionOrVariableAndTheFix() {
        for bad in [0, -2] {
            #expect { try ThreadSetting.resolve(option: bad, environment: [:], available: { 7 }) } throws: { error in
                let message = (error as? ThreadSettingError)?.message ?? ""
                return message.hasPrefix("--threads \(bad):") && message.contains("at least 1") && message.contains("e.g. --threads 4")
            }
        }
        for bad in ["0", "-1", "four", "", "2.5"] {
            #expect { try ThreadSetting.resolve(option: nil, environment: ["BACKDROP_THREADS": bad], available: { 7 }) } throws: { error in
                let message = (error as? ThreadSettingError)?.message ?? ""
                return message.hasPrefix("BACKDROP_THREADS=\(bad):") && message.contains("e.g. BACKDROP_THREADS=4")
                    && message.contains("unset it")
            }
        }
    }
}

/// Results do not depend on the number of worker threads.
@Suite(.serialized) struct ThreadCountDeterminismTests {
    /// Runs `body` with the kernels on 1, 2 and 3 workers and returns each result.
    static func onEachThreadCount<T>(_ body: () -> T) -> [T] {
        defer { Parallel.configure(threads: Parallel.defaultWorkerCount) }
        return [1, 2, 3].map { n in
            Parallel.configure(threads: n)
            #expect(Parallel.workerCount == n)
            return body()
        }
    }

    @Test func explicitPiecesAreTheSameSlicesOnAnyNumberOfWorkers() {
        let slices = Self.onEachThreadCount { () -> [Range<Int>] in
            let found = Mutex<[Range<Int>]>([])
            Parallel.forEachChunk(1000, minimumWork: 0, pieces: 7) { r in found.withLock { $0.append(r) } }
            return found.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
        }
        #expect(slices[0].count == 7)
        #expect(slices.allSatisfy { $0 == slices[0] })
    }

    @Test func largeMatmulsAreBitIdenticalOnAnyNumberOfWorkers() {
        var rng = SeededRNG(seed: 11)
        // Row split (m > n), column split (n > m) and a transposed operand; extents that do not
        // divide evenly into the slices.
        let cases: [(Tensor, Tensor, Bool, Bool)] = [
            (rng.tensor([1000, 300]), rng.tensor([300, 70]), false, false),
            (rng.tensor([90, 257]), rng.tensor([2003, 257]), false, true),
            (rng.tensor([700, 300]), rng.tensor([700, 33]), true, false),
        ]
        for (a, b, ta, tb) in cases {
            let results = Self.onEachThreadCount { Tensor.matmul(a, b, transposeA: ta, transposeB: tb).scalars }
            #expect(results[1] == results[0] && results[2] == results[0], "\(a.shape) · \(b.shape)")
        }
    }

    @Test func batchNormAndConvolutionGradientsAreBitIdenticalOnAnyNumberOfWorkers() {
        var rng = SeededRNG(seed: 12)
        let x = rng.tensor([40, 8, 12, 12]), w = rng.tensor([16, 8, 3, 3]), gamma = rng.tensor([16]), beta = rng.tensor([16])
        let seed = rng.tensor([40, 16, 12, 12])
        let results = Self.onEachThreadCount { () -> [[Float]] in
            let xl = x.trackedLeaf(), wl = w.trackedLeaf(), gl = gamma.trackedLeaf()
            let y = Tensor.batchNorm(Tensor.conv2d(xl, weight: wl, stride: 1, padding: 1), gamma: gl, beta: beta, eps: 1e-5).0.relu()
            let g = y.gradients(for: [xl, wl, gl], seed: seed)
            return [y.scalars, g[xl]!.scalars, g[wl]!.scalars, g[gl]!.scalars]
        }
        #expect(results[1] == results[0] && results[2] == results[0])
    }
}
