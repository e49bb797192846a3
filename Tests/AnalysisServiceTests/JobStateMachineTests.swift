import ECGEvents
import Testing

@testable import AnalysisService

@Suite("Job state machine")
struct JobStateMachineTests {
    let result = AnalysisResult(captions: [], emotions: [], analysisTime: .string("2025-09-09T12:30:00Z"), extra: ["method": .string("test")])

    @Test("started records the worker and changes nothing else")
    func started() {
        let next = JobStateMachine.apply(.started(workerID: "w1"), to: .new)
        #expect(next?.workerID == "w1")
        #expect(next?.status == .processing)
        #expect(next?.progress == 0)
        #expect(JobStateMachine.apply(.started(workerID: "w1"), to: next!) == nil, "a duplicate start changes nothing")
    }

    @Test("progress only moves forward and stays below 100 until completion")
    func progress() throws {
        let half = try #require(JobStateMachine.apply(.progress(50, stage: "measuring"), to: .new))
        #expect(half.progress == 50)
        #expect(half.stage == "measuring")
        #expect(JobStateMachine.apply(.progress(30, stage: "late"), to: half) == nil, "an out-of-order event is ignored")
        #expect(JobStateMachine.apply(.progress(50, stage: "again"), to: half) == nil, "a duplicate is ignored")
        #expect(JobStateMachine.apply(.progress(250, stage: "odd"), to: half)?.progress == 99)
        #expect(JobStateMachine.apply(.progress(-5, stage: "odd"), to: .new) == nil)
    }

    @Test("completed sets progress 100 and the result; failed sets the error")
    func terminal() throws {
        let completed = try #require(JobStateMachine.apply(.completed(result), to: .new))
        #expect(completed.status == .completed)
        #expect(completed.progress == 100)
        #expect(completed.result == result)
        let failed = try #require(JobStateMachine.apply(.failed(.init(code: "x", message: "y"), retryable: true), to: .new))
        #expect(failed.status == .failed)
        #expect(failed.error == .init(code: "x", message: "y"))
    }

    @Test("a terminal state is final: nothing moves it, in any order")
    func finality() throws {
        let completed = try #require(JobStateMachine.apply(.completed(result), to: .new))
        let failed = try #require(JobStateMachine.apply(.failed(.init(code: "x", message: "y"), retryable: true), to: .new))
        for state in [completed, failed] {
            #expect(JobStateMachine.apply(.progress(99, stage: "late"), to: state) == nil)
            #expect(JobStateMachine.apply(.started(workerID: "other"), to: state) == nil)
            #expect(JobStateMachine.apply(.completed(result), to: state) == nil)
            #expect(JobStateMachine.apply(.failed(.init(code: "timeout", message: "late"), retryable: true), to: state) == nil)
        }
    }
}
