import Foundation
import TestSupport
import Testing
@testable import ResultsStore

@Suite("Claiming cells")
struct ClaimTests {
    @Test("claim, busy for a second claimant, finish, then finished")
    func lifecycle() throws {
        let clock = TestClock()
        let store = try ResultsDatabase.inMemory(clock: clock.closure)
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s1", specPath: "q.yaml")
        #expect(try store.upsertExperiment(name: "quick", specSHA256: "s1").id == e.id)
        #expect(try store.upsertExperiment(name: "quick", specSHA256: "s2").id != e.id)

        let c = cell()
        let first = try claim(store, e.id, c)
        #expect(first.attempt == 1 && first.previousStatus == nil)
        let second = try store.beginRun(experimentID: e.id, cell: c, provenance: provenance())
        guard case .busy(let run) = second else { Issue.record("expected busy, got \(second)"); return }
        #expect(run.status == .running && run.ownerPID == Int(ProcessInfo.processInfo.processIdentifier))

        clock.advance(5)
        try store.finishRun(first)
        let third = try store.beginRun(experimentID: e.id, cell: c, provenance: provenance())
        guard case .finished(let finished) = third else { Issue.record("expected finished, got \(third)"); return }
        #expect(finished.finishedAt == clock.now && finished.ownerToken == nil && finished.attempts == 1)
        #expect(finished.provenance == provenance())
        #expect(try store.finishedCells(experimentID: e.id) == [c.cellKey: provenance().configSHA256])
        #expect(throws: ResultsStoreError.claimLost(runID: first.runID, cellKey: c.cellKey)) { try store.finishRun(first) }
    }

    @Test("a failed cell is retried: attempt 2, error cleared, first start time kept")
    func retryAfterFailure() throws {
        let clock = TestClock()
        let store = try ResultsDatabase.inMemory(clock: clock.closure)
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        let c = cell(seed: 3)
        let started = clock.now
        let first = try claim(store, e.id, c)
        try store.failRun(first, error: "corrupt PNG train/images/a/1.png")
        #expect(try store.run(id: first.runID)?.error == "corrupt PNG train/images/a/1.png")
        #expect(try store.run(id: first.runID)?.status == .failed)
        clock.advance(60)
        let second = try claim(store, e.id, c)
        #expect(second.runID == first.runID && second.attempt == 2 && second.previousStatus == .failed)
        let run = try #require(try store.run(id: second.runID))
        #expect(run.error == nil && run.status == .running && run.startedAt == started && run.finishedAt == nil)
    }

    @Test("an interrupted cell releases its claim, keeps its note and is resumed by the next claim")
    func interruptedIsResumed() throws {
        let store = try ResultsDatabase.inMemory()
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        let c = cell(seed: 1)
        let first = try claim(store, e.id, c)
        try store.interruptRun(first, note: "interrupted (Ctrl-C) at epoch 2, step 5")
        let stopped = try #require(try store.run(id: first.runID))
        #expect(stopped.status == .interrupted && stopped.ownerToken == nil && stopped.error == "interrupted (Ctrl-C) at epoch 2, step 5")
        #expect(try store.experimentOverview().first?.interrupted == 1)
        // A released claim cannot be interrupted or finished again by its old owner.
        #expect(throws: ResultsStoreError.claimLost(runID: first.runID, cellKey: c.cellKey)) { try store.interruptRun(first, note: "again") }
        let second = try claim(store, e.id, c)
        #expect(second.runID == first.runID && second.attempt == 2 && second.previousStatus == .interrupted)
        #expect(try store.run(id: second.runID)?.status == .running)
    }

    @Test("planned (pending) cells are claimed as first attempts")
    func pending() throws {
        let store = try ResultsDatabase.inMemory()
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        let planned = try store.planRun(experimentID: e.id, cell: cell(), provenance: provenance())
        #expect(planned.status == .pending && planned.attempts == 0 && planned.startedAt == nil)
        #expect(try store.planRun(experimentID: e.id, cell: cell(), provenance: provenance()).id == planned.id)
        let c = try claim(store, e.id, cell())
        #expect(c.runID == planned.id && c.attempt == 1 && c.previousStatus == nil)
    }

    @Test("stale claims are taken over: old heartbeat, or a dead owner process on this host")
    func staleTakeover() throws {
        let clock = TestClock()
        let store = try ResultsDatabase.inMemory(clock: clock.closure)
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        let c = cell()
        let other = RunOwner(host: "elsewhere", pid: 1)
        let old = try claim(store, e.id, c, owner: other)
        clock.advance(599)
        #expect(try store.beginRun(experimentID: e.id, cell: c, provenance: provenance(), staleAfter: 600).claim == nil)
        try store.heartbeat(old)
        clock.advance(599)
        #expect(try store.beginRun(experimentID: e.id, cell: c, provenance: provenance(), staleAfter: 600).claim == nil)
        clock.advance(2)
        let taken = try claim(store, e.id, c)
        #expect(taken.attempt == 2 && taken.previousStatus == .running)
        // The old owner can no longer write anything into the run.
        #expect(throws: ResultsStoreError.self) { try store.heartbeat(old) }
        #expect(throws: ResultsStoreError.self) { try store.recordParams(["a": "1"], for: old) }
        #expect(throws: ResultsStoreError.self) { try store.failRun(old, error: "late") }
        #expect(try store.params(runID: taken.runID).isEmpty)

        // Same host, dead pid (no such process): taken over at once, without waiting.
        let d = cell(seed: 1)
        let dead = RunOwner(host: RunOwner.current.host, pid: 2_000_000_000)
        _ = try claim(store, e.id, d, owner: dead)
        let resumed = try claim(store, e.id, d)
        #expect(resumed.attempt == 2)
        // This process (same instance) already owns it: busy.
        let alive = cell(seed: 2)
        _ = try claim(store, e.id, alive)
        #expect(try store.beginRun(experimentID: e.id, cell: alive, provenance: provenance()).claim == nil)
        // Another live process on this host (pid 1 exists): busy.
        let other1 = cell(seed: 4)
        _ = try claim(store, e.id, other1, owner: RunOwner(host: RunOwner.current.host, pid: 1))
        #expect(try store.beginRun(experimentID: e.id, cell: other1, provenance: provenance()).claim == nil)
        // An earlier process that had this process's pid (restart in a container): taken over.
        let reused = cell(seed: 5)
        _ = try claim(store, e.id, reused, owner: RunOwner(host: RunOwner.current.host, pid: RunOwner.current.pid))
        #expect(try claim(store, e.id, reused).attempt == 2)
    }

    @Test("two connections to one file, claiming the same cells from two threads: exactly one wins each")
    func concurrentClaimants() throws {
        let path = temporaryDatabasePath("claims")
        defer { removeDatabase(path) }
        let a = try ResultsDatabase(path: path)
        let b = try ResultsDatabase(path: path)
        let e = try a.upsertExperiment(name: "quick", specSHA256: "s")
        #expect(try b.upsertExperiment(name: "quick", specSHA256: "s").id == e.id)
        let cells = (0..<25).map { cell(seed: $0) }
        let stores = [a, b]
        let results = ClaimLog()
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for c in cells {
                do {
                    let outcome = try stores[worker].beginRun(experimentID: e.id, cell: c, provenance: provenance())
                    if let claim = outcome.claim {
                        results.add(c.cellKey, worker)
                        let metrics = stores[worker].metricWriter(for: claim, batchSize: 3)
                        for step in 0..<5 { try metrics.add(key: "loss", step: step, epoch: 0, value: Double(step)) }
                        try metrics.finish()
                        try stores[worker].finishRun(claim)
                    }
                } catch {
                    results.fail("\(error)")
                }
            }
        }
        #expect(results.errors.isEmpty, "\(results.errors)")
        let winners = results.winners
        #expect(winners.count == cells.count)
        #expect(winners.values.allSatisfy { $0.count == 1 }, "a cell was claimed twice: \(winners)")
        let runs = try a.runs(experimentID: e.id)
        #expect(runs.count == cells.count && runs.allSatisfy { $0.status == .finished && $0.attempts == 1 })
        let rows = try a.readOnlyQuery(sql: "SELECT COUNT(*) FROM metrics")
        #expect(rows.rows == [[.integer(Int64(cells.count * 5))]])
    }
}

final class ClaimLog: @unchecked Sendable {
    private let lock = NSLock()
    private var claims: [String: [Int]] = [:]
    private var failures: [String] = []
    func add(_ key: String, _ worker: Int) { lock.lock(); claims[key, default: []].append(worker); lock.unlock() }
    func fail(_ message: String) { lock.lock(); failures.append(message); lock.unlock() }
    var winners: [String: [Int]] { lock.lock(); defer { lock.unlock() }; return claims }
    var errors: [String] { lock.lock(); defer { lock.unlock() }; return failures }
}
