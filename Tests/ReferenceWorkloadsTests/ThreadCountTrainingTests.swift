import Contrastive
import NN
import Testing
import TensorCore
@testable import ReferenceWorkloads

/// A SimCLR training run (the step `backdrop train` takes) ends on the same bits on 1, 2 or 3
/// worker threads: no kernel's summation order depends on the thread count.
@Suite(.serialized) struct ThreadCountTrainingTests {
    @Test func trainingStepsAreBitIdenticalOnOneTwoAndThreeThreads() throws {
        defer { Parallel.configure(threads: Parallel.defaultWorkerCount) }
        var outcomes: [(losses: [Float], state: [String: [Float]])] = []
        for threads in [1, 2, 3] {
            Parallel.configure(threads: threads)
            // Width 16 at 16×16, batch 32: batch norms and convolutions large enough to be split.
            let run = SimCLRTrainingRun(width: 16, size: 16, batch: 32, totalSteps: 3)
            let losses = try (0..<3).map { _ in try run.step()["loss"] ?? .nan }
            #expect(losses.allSatisfy { $0.isFinite })
            outcomes.append((losses, WorkloadTests.state(run.method)))
        }
        for (i, o) in outcomes.enumerated().dropFirst() {
            #expect(o.losses == outcomes[0].losses, "losses on \(i + 1) threads differ from 1 thread")
            #expect(o.state == outcomes[0].state, "weights on \(i + 1) threads differ from 1 thread")
        }
    }
}
