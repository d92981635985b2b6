import Foundation
import NN
import Testing

@Suite struct LearningRateScheduleTests {
    @Test func constant() {
        let s = LearningRateSchedule.constant(0.3)
        #expect([0, 1, 1000].map { s.learningRate(atStep: $0) } == [0.3, 0.3, 0.3])
    }

    /// solo-learn's `LinearWarmupCosineAnnealingLR` with warmup_epochs 5, max_epochs 25,
    /// warmup_start_lr 0, eta_min 0.1, base lr 1.
    @Test func warmupCosineKeySteps() {
        let s = LearningRateSchedule.warmupCosine(baseLR: 1, finalLR: 0.1, warmupStartLR: 0, warmupSteps: 5, totalSteps: 25)
        let expected: [(Int, Double)] = [
            (0, 0),                                         // warm-up starts at warmupStartLR
            (2, 0.5),                                       // 2·(1 − 0)/(5 − 1)
            (4, 1),                                         // warm-up reaches baseLR at W − 1
            (5, 1),                                         // cosine starts at baseLR
            (10, 0.1 + 0.45 * (1 + cos(Double.pi / 4))),    // a quarter of the way
            (15, 0.55),                                     // the middle: (base + final)/2
            (25, 0.1),                                      // the end: finalLR
            (40, 0.1),                                      // held afterwards
        ]
        for (step, lr) in expected {
            #expect(abs(Double(s.learningRate(atStep: step)) - lr) < 1e-6, "step \(step)")
        }
        // Monotone decay after warm-up.
        let decay = (5...25).map { s.learningRate(atStep: $0) }
        #expect(zip(decay, decay.dropFirst()).allSatisfy { $0 >= $1 })
    }

    @Test func warmupEdgeCases() {
        let noWarmup = LearningRateSchedule.warmupCosine(baseLR: 2, warmupSteps: 0, totalSteps: 10)
        #expect(noWarmup.learningRate(atStep: 0) == 2)
        #expect(abs(noWarmup.learningRate(atStep: 5) - 1) < 1e-6)
        #expect(noWarmup.learningRate(atStep: 10) == 0)
        let oneStep = LearningRateSchedule.warmupCosine(baseLR: 2, finalLR: 0, warmupStartLR: 0.5, warmupSteps: 1, totalSteps: 10)
        #expect(oneStep.learningRate(atStep: 0) == 0.5)
        #expect(oneStep.learningRate(atStep: 1) == 2)
    }

    @Test func stepDecay() {
        let s = LearningRateSchedule.stepDecay(baseLR: 0.1, milestones: [3, 6], gamma: 0.1)
        let lrs = (0..<8).map { Double(s.learningRate(atStep: $0)) }
        let expected = [0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001]
        #expect(zip(lrs, expected).allSatisfy { abs($0 - $1) <= 1e-7 * $1 }, "\(lrs)")
    }

    @Test func codableRoundTripAndDefaults() throws {
        let schedules: [LearningRateSchedule] = [
            .constant(0.5),
            .warmupCosine(baseLR: 0.3, finalLR: 0.001, warmupStartLR: 3e-5, warmupSteps: 10, totalSteps: 100),
            .stepDecay(baseLR: 0.1, milestones: [30, 60], gamma: 0.2),
        ]
        for s in schedules {
            let data = try JSONEncoder().encode(s)
            #expect(try JSONDecoder().decode(LearningRateSchedule.self, from: data) == s)
        }
        let short = #"{"warmupCosine": {"baseLR": 0.3, "warmupSteps": 2, "totalSteps": 8}}"#
        #expect(try JSONDecoder().decode(LearningRateSchedule.self, from: Data(short.utf8))
                == .warmupCosine(baseLR: 0.3, finalLR: 0, warmupStartLR: 0, warmupSteps: 2, totalSteps: 8))
        let decay = #"{"stepDecay": {"baseLR": 1, "milestones": [5]}}"#
        #expect(try JSONDecoder().decode(LearningRateSchedule.self, from: Data(decay.utf8)) == .stepDecay(baseLR: 1, milestones: [5], gamma: 0.1))
    }

    @Test(arguments: [
        #"{"warmupCosine": {"baseLR": 0.3, "warmupSteps": 8, "totalSteps": 8}}"#,
        #"{"warmupCosine": {"baseLR": -1, "warmupSteps": 0, "totalSteps": 8}}"#,
        #"{"stepDecay": {"baseLR": 1, "milestones": [-1]}}"#,
        #"{"constant": {"learningRate": 1}, "stepDecay": {"baseLR": 1, "milestones": []}}"#,
        #"{"cyclic": {}}"#,
    ])
    func invalidConfigsAreRejected(_ json: String) {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(LearningRateSchedule.self, from: Data(json.utf8)) }
    }
}
