import ECGEvents
import Foundation
import Testing

@testable import AnalysisService

/// The bodies analysis-service answers, byte for byte (keys sorted, as JSON objects have no order): a change in Swift names or types must not
/// change them.
@Suite("analysis-service bodies and values on the wire")
struct WireFormatTests {
    static let id = JobID(UUID(uuidString: "7F1C9E34-5B2A-4C1D-9E8F-0A1B2C3D4E5F")!)
    static let created = Date(timeIntervalSince1970: 1_757_421_000)

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test("job-status of a failed job")
    func jobStatus() throws {
        let job = Job(
            id: Self.id,
            userID: 7,
            videoFileKey: "uploads/a/v.mp4",
            analysisType: .captionGeneration,
            state: JobState(status: .failed, progress: 10, stage: "failed", error: .init(code: "cancelled", message: "The job was cancelled."), retryable: true),
            createdAt: Self.created,
            updatedAt: Self.created.addingTimeInterval(1.5)
        )
        let body = try Self.json(JobResponse(job))
        #expect(
            body
                == #"{"analysis_type":"caption_generation","created_at":"2025-09-09T12:30:00.000Z","#
                + #""error":{"code":"cancelled","message":"The job was cancelled.","retryable":true},"#
                + #""job_id":"7f1c9e34-5b2a-4c1d-9e8f-0a1b2c3d4e5f","progress":10,"result":null,"stage":"failed","status":"failed","#
                + #""updated_at":"2025-09-09T12:30:01.500Z","video_file_key":"uploads/a/v.mp4"}"#,
            "\(body)"
        )
    }

    @Test("process-video's 202 and a page of jobs")
    func acceptedAndPage() throws {
        let job = Job(id: Self.id, userID: 7, videoFileKey: "k", analysisType: .fullAnalysis, state: .new, createdAt: Self.created, updatedAt: Self.created)
        let accepted = try Self.json(JobController.Accepted(job))
        #expect(
            accepted == #"{"job_id":"7f1c9e34-5b2a-4c1d-9e8f-0a1b2c3d4e5f","message":"비디오 분석이 시작되었습니다.","status":"processing"}"#,
            "\(accepted)"
        )
        #expect(try Self.json(JobController.JobList(items: [], nextCursor: nil)) == #"{"items":[],"next_cursor":null}"#)
    }

    @Test("a job id is its lower-case UUID in JSON, and only a UUID parses")
    func jobID() throws {
        #expect(try Self.json([Self.id]) == #"["7f1c9e34-5b2a-4c1d-9e8f-0a1b2c3d4e5f"]"#)
        #expect(try JSONDecoder().decode([JobID].self, from: Data(#"["7F1C9E34-5B2A-4C1D-9E8F-0A1B2C3D4E5F"]"#.utf8)) == [Self.id])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([JobID].self, from: Data(#"["job-1"]"#.utf8)) }
        #expect(JobID("../x") == nil)
    }

    @Test("AnalysisType lists the values the jobs table's CHECK allows")
    func analysisTypesMatchTheMigration() throws {
        let migration = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Services/AnalysisService/Migrations/0001_create_jobs.sql")
        let sql = try String(contentsOf: migration, encoding: .utf8)
        let check = try #require(sql.firstMatch(of: /analysis_type text NOT NULL CHECK \(analysis_type IN \(([^)]*)\)\)/)?.1)
        let values = check.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " '")) }
        #expect(values == AnalysisType.wireValues)
    }

    @Test("the Idempotency-Key fingerprint is the text jobs were stored with (its hash is in the table)")
    func fingerprint() throws {
        let request = AnalysisJobs.Request(userID: 7, videoFileKey: "uploads/a/v.mp4", analysisType: .fullAnalysis, language: "en-US")
        #expect(try request.fingerprint == #"{"analysis_type":"full_analysis","language":"en-US","video_file_key":"uploads/a/v.mp4"}"#)
        let english = AnalysisJobs.Request(userID: 7, videoFileKey: "k", analysisType: .emotionAnalysis, language: nil)
        #expect(try english.fingerprint == #"{"analysis_type":"emotion_analysis","video_file_key":"k"}"#)
    }

    @Test("media-service's internal answer decodes into VideoInfo")
    func videoInfo() throws {
        let json = #"""
            {"file_key":"uploads/a/v.mp4","owner_id":"7","status":"uploaded","content_type":"video/mp4","size_bytes":42,
             "filename":"v.mp4","created_at":"2025-09-09T12:30:00.000Z","download_url":"http://s3/x",
             "download_url_expires_at":"2025-09-09T18:30:00.000Z"}
            """#
        let video = try JSONDecoder().decode(VideoInfo.self, from: Data(json.utf8))
        #expect(video.fileKey == "uploads/a/v.mp4" && video.ownerID == 7 && video.isUploaded)
        #expect(video.downloadURL == "http://s3/x" && video.downloadURLExpiresAt == "2025-09-09T18:30:00.000Z")
    }
}
