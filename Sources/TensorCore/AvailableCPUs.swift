import CProcessControl
import Foundation

/// The number of CPUs this process may actually run on: the smaller of its CPU affinity mask
/// (`taskset`, Slurm's `--cpus-per-task`) and its cgroup CPU quota (a container's or a Slurm job's
/// `cpu.max`), else `ProcessInfo.activeProcessorCount`. A task given 2 CPUs of a 64-core node
/// counts 2.
///
/// The parsers below take file contents and return numbers (no I/O), so they are tested with
/// fixture strings; `count(fileSystemRoot:)` does the reading.
public enum AvailableCPUs {
    /// The CPUs this process may run on (at least 1), read once per call from the affinity mask
    /// and the cgroup files under `fileSystemRoot` (`/` outside tests).
    public static func count(fileSystemRoot: String = "/") -> Int {
        let limits = [affinityCount(), cgroupLimit(fileSystemRoot: fileSystemRoot)].compactMap { $0 }
        return max(1, limits.min() ?? ProcessInfo.processInfo.activeProcessorCount)
    }

    // MARK: Parsers (text in, number out)

    /// The CPUs set in an affinity mask (CPU_COUNT semantics: bit `i % 8` of byte `i / 8` is CPU
    /// `i`), or nil when none is set (no usable mask).
    public static func count(affinityMask: [UInt8]) -> Int? {
        let n = affinityMask.reduce(0) { $0 + $1.nonzeroBitCount }
        return n > 0 ? n : nil
    }

    /// CPUs allowed by a cgroup v2 `cpu.max` ("QUOTA PERIOD" in microseconds, e.g. "200000 100000"
    /// → 2, "150000 100000" → 2): ⌈quota / period⌉; nil for "max …" (no limit) or unreadable text.
    public static func cgroupV2Limit(cpuMax: String) -> Int? {
        let fields = cpuMax.split(whereSeparator: \.isWhitespace)
        guard let quota = fields.first, quota != "max" else { return nil }
        return limit(quota: String(quota), period: fields.count > 1 ? String(fields[1]) : "100000")
    }

    /// CPUs allowed by cgroup v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us`: ⌈quota / period⌉; nil
    /// for quota -1 (no limit) or unreadable text.
    public static func cgroupV1Limit(quota: String, period: String) -> Int? {
        limit(quota: quota, period: period)
    }

    /// ⌈quota / period⌉ for positive whole numbers, else nil.
    static func limit(quota: String, period: String) -> Int? {
        guard let q = Int(quota.trimmingCharacters(in: .whitespacesAndNewlines)),
              let p = Int(period.trimmingCharacters(in: .whitespacesAndNewlines)), q > 0, p > 0 else { return nil }
        return max(1, (q + p - 1) / p)
    }

    /// The cgroup path of a controller in `/proc/self/cgroup` ("ID:CONTROLLERS:PATH" lines): the v2
    /// path (`0::/path`) for `controller == nil`, else the v1 line listing `controller` (e.g.
    /// `4:cpu,cpuacct:/slurm/job1`).
    public static func cgroupPath(procSelfCgroup: String, controller: String? = nil) -> String? {
        for line in procSelfCgroup.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if let controller {
                if parts[1].split(separator: ",").contains(Substring(controller)) { return String(parts[2]) }
            } else if parts[0] == "0" && parts[1].isEmpty {
                return String(parts[2])
            }
        }
        return nil
    }

    /// The folders from `mount/path` up to `mount` itself, innermost first: where a limit on this
    /// cgroup or one of its ancestors may be set (a container sees its own cgroup at the mount).
    public static func cgroupFolders(mount: String, path: String) -> [String] {
        var components = path.split(separator: "/").map(String.init)
        var folders: [String] = []
        while true {
            folders.append(([mount] + components).joined(separator: "/"))
            if components.isEmpty { return folders }
            components.removeLast()
        }
    }

    // MARK: Reading

    /// The affinity mask's CPU count, or nil where it cannot be read.
    static func affinityCount() -> Int? {
        var mask = [UInt8](repeating: 0, count: 8192)   // 65 536 CPUs
        let bytes = mask.withUnsafeMutableBufferPointer { backdrop_affinity_mask($0.baseAddress, UInt($0.count)) }
        guard bytes > 0 else { return nil }
        return count(affinityMask: Array(mask.prefix(Int(bytes))))
    }

    /// The tightest cgroup CPU quota on this process's cgroup or its ancestors (v2 `cpu.max`, else v1
    /// `cpu.cfs_quota_us` / `cpu.cfs_period_us`), or nil when none is set.
    static func cgroupLimit(fileSystemRoot root: String) -> Int? {
        let read = { (path: String) in try? String(contentsOfFile: root + path, encoding: .utf8) }
        let cgroups = read("/proc/self/cgroup") ?? ""
        var limits: [Int] = []
        if let path = cgroupPath(procSelfCgroup: cgroups) {
            for folder in cgroupFolders(mount: "/sys/fs/cgroup", path: path) {
                if let text = read(folder + "/cpu.max"), let n = cgroupV2Limit(cpuMax: text) { limits.append(n) }
            }
        }
        for mount in ["/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"] {
            let path = cgroupPath(procSelfCgroup: cgroups, controller: "cpu") ?? "/"
            for folder in cgroupFolders(mount: mount, path: path) {
                if let quota = read(folder + "/cpu.cfs_quota_us"), let period = read(folder + "/cpu.cfs_period_us"),
                   let n = cgroupV1Limit(quota: quota, period: period) { limits.append(n) }
            }
        }
        return limits.min()
    }
}
