import Foundation

/// `<results>/slurm/<experiment>/jobs.json`: every submission of the experiment to Slurm (array
/// and merge job ids, time, the cell of each array task), newest last, so `backdrop status` can
/// ask Slurm about the jobs and name the cell of each task.
public enum SlurmJobLog {
    public struct Task: Codable, Sendable, Equatable {
        public var index: Int
        public var cellKey: String
        public init(index: Int, cellKey: String) { self.index = index; self.cellKey = cellKey }
    }

    public struct Submission: Codable, Sendable, Equatable {
        /// nil when only the merge was submitted (every cell already finished in a shard).
        public var arrayJob: String?
        public var mergeJob: String
        public var submittedAt: Date
        public var tasks: [Task]

        public init(arrayJob: String?, mergeJob: String, submittedAt: Date, tasks: [Task]) {
            self.arrayJob = arrayJob
            self.mergeJob = mergeJob
            self.submittedAt = submittedAt
            self.tasks = tasks
        }
    }

    static func file(in folder: String) -> URL { URL(fileURLWithPath: folder).appendingPathComponent("jobs.json") }

    /// The recorded submissions, oldest first (none when the file is absent).
    public static func read(in folder: String) throws -> [Submission] {
        guard let data = FileManager.default.contents(atPath: file(in: folder).path) else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        do {
            return try decoder.decode([Submission].self, from: data)
        } catch {
            throw SpecError(location: file(in: folder).path, key: "", message: "not a job log written by backdrop (\(error)); move it aside")
        }
    }

    public static func append(_ submission: Submission, in folder: String) throws {
        let all = try read(in: folder) + [submission]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        try encoder.encode(all).write(to: file(in: folder), options: .atomic)
    }
}
