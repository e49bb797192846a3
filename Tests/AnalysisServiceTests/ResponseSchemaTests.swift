import ECGEvents
import ECGPlatform
import Foundation
import Testing

@testable import AnalysisService

/// What analysis-service answers matches the schemas it publishes in /openapi.json.
@Suite("analysis-service responses match their OpenAPI schemas")
struct ResponseSchemaTests {
    static func json(_ value: some Encodable) throws -> Any {
        try JSONSerialization.jsonObject(with: try JSONEncoder().encode(value))
    }

    static func job(_ state: JobState) -> Job {
        Job(
            id: JobID(),
            userID: 7,
            videoFileKey: "uploads/1/a.mp4",
            analysisType: .fullAnalysis,
            state: state,
            createdAt: Date(),
            updatedAt: Date()
        )
    }

    @Test("job-status in every state", arguments: ["new", "running", "completed", "failed"])
    func jobStatus(state: String) throws {
        let result = AnalysisResult(
            captions: [
                .init(
                    start: 0,
                    end: 1.5,
                    text: "hello",
                    emotion: "calm",
                    intensity: 0.2,
                    extra: [
                        "words": .array([.object(["word": .string("hello"), "start": .number(0), "end": .number(0.4), "confidence": .number(0.9)])])
                    ]
                )
            ],
            emotions: [.init(start: 0, end: 1.5, label: "calm", score: 0.2)],
            analysisTime: .string("2025-09-09T12:30:00Z"),
            extra: ["method": .string("m"), "processing_seconds": .number(2)]
        )
        let states: [String: JobState] = [
            "new": .new,
            "running": JobState(status: .processing, progress: 40, stage: "recognising", workerID: "w"),
            "completed": JobState(status: .completed, progress: 100, stage: "completed", result: result),
            "failed": JobState(status: .failed, progress: 10, stage: "failed", error: .init(code: "cancelled", message: "m"), retryable: true),
        ]
        let body = try Self.json(JobResponse(Self.job(try #require(states[state]))))
        #expect(JobResponse.schema.violations(of: body) == [])
    }

    @Test("the schema check catches a body that drifted")
    func drift() throws {
        var body = try #require(try Self.json(JobResponse(Self.job(.new))) as? [String: Any])
        body["progress"] = "ten"
        body.removeValue(forKey: "status")
        body["surprise"] = 1
        let problems = JobResponse.schema.violations(of: body)
        #expect(problems.contains("$.progress: expected an integer"))
        #expect(problems.contains("$.status: required but missing"))
        #expect(problems.contains("$.surprise: not in the schema"))
    }

    @Test("a page of jobs")
    func jobList() throws {
        let page = JobController.JobList(items: [JobResponse(Self.job(.new))], nextCursor: nil)
        let schema = JSONSchema.record(["items": .array(JobResponse.schema), "next_cursor": .nullable(.text)])
        #expect(schema.violations(of: try Self.json(page)) == [])
    }
}
