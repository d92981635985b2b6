import Foundation
import TestSupport
import Testing

/// The build's git commit is compiled into the binary (not read from the working directory when
/// it runs): `--version` prints it, and every run records it with the libraries and CPU it ran on.
@Suite(.serialized) struct BuildProvenanceTests {
    /// The package's checkout (this file lives in `Tests/CLITests/`).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `git rev-parse HEAD` of the checkout the tests were built from, or nil outside one.
    static func head() -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", packageRoot.path, "rev-parse", "HEAD"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    @Test func versionPrintsTheCommitTheBinaryWasBuiltFrom() throws {
        let r = try Executables.run("backdrop", ["--version"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("0.1.0 (commit "), "\(r.stdout)")
        if let head = Self.head() {
            #expect(r.stdout.contains("commit \(head.prefix(12))"), "built from \(head), --version says \(r.stdout)")
        }
    }

    @Test func runsRecordTheBuildCommitEvenWhenRunOutsideTheCheckout() throws {
        let (dir, args, db) = try ReproduceCommandTests.folder("provenance")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Run from a folder that is not a git checkout: the commit still comes from the build.
        let process = Process()
        process.executableURL = try #require(Executables.url("backdrop"))
        process.arguments = ["reproduce"] + args + ["--set", "regularizers=[none]", "--set", "train.epochs=1"]
        process.currentDirectoryURL = dir
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let commit = try ReproduceCommandTests.scalar(db, "SELECT git_commit FROM runs")
        if let head = Self.head() { #expect(commit == head) }
        #expect(try ReproduceCommandTests.scalar(db, """
            SELECT json_extract(versions_json, '$.blas') LIKE 'OpenBLAS%' AND json_extract(versions_json, '$.libpng') LIKE '1.%'
               AND json_extract(versions_json, '$.sqlite') LIKE '3.%' AND length(json_extract(versions_json, '$.cpu')) > 0
               AND CAST(json_extract(versions_json, '$.cpus') AS INTEGER) > 0 AS ok FROM runs
            """) == "1")
    }
}
