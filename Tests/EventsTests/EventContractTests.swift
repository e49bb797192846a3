import ECGEvents
import Foundation
import Testing

/// The wire format of every event of SPEC.md §5, pinned byte for byte: a change to a Swift type that
/// would change what other programs read fails here first.
@Suite("Event contract: golden JSON")
struct EventContractTests {
    static let time = Date(timeIntervalSince1970: 1_757_421_000)  // 2025-09-09T12:30:00Z
    static let jobID = JobID(UUID(uuidString: "0b7a5e9e-6b1e-4d2a-9a43-6c1f2d3e4f50")!)

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try EventCoding.encoder().encode(value), as: UTF8.self)
    }

    /// Encodes, compares with the golden text, and decodes the golden text back to the same value.
    static func check<T: Codable & Equatable>(_ value: T, _ golden: String) throws {
        #expect(try json(value) == golden)
        #expect(try EventCoding.decoder().decode(T.self, from: Data(golden.utf8)) == value)
    }

    @Test("the CloudEvents envelope")
    func envelope() throws {
        let event = CloudEvent(
            id: "e1",
            source: "media-service",
            type: EventType.videoDeleted,
            time: Self.time,
            subject: "uploads/1/a.mp4",
            data: VideoDeleted(fileKey: VideoKey("uploads/1/a.mp4"), ownerID: UserID(7))
        )
        #expect(
            try Self.json(event)
                == #"{"data":{"file_key":"uploads/1/a.mp4","owner_id":"7"},"datacontenttype":"application/json","id":"e1","source":"media-service","specversion":"1.0","subject":"uploads/1/a.mp4","time":"2025-09-09T12:30:00.000Z","type":"ecg.media.video.deleted.v1"}"#
        )
    }

    @Test("event types and topics")
    func names() {
        #expect(EventType.videoUploaded == "ecg.media.video.uploaded.v1")
        #expect(EventType.videoDeleted == "ecg.media.video.deleted.v1")
        #expect(EventType.userDeleted == "ecg.auth.user.deleted.v1")
        #expect(EventType.jobRequested == "ecg.analysis.job.requested.v1")
        #expect(EventType.jobCancelled == "ecg.analysis.job.cancelled.v1")
        #expect(EventType.jobStarted == "ecg.analysis.job.started.v1")
        #expect(EventType.jobProgress == "ecg.analysis.job.progress.v1")
        #expect(EventType.jobCompleted == "ecg.analysis.job.completed.v1")
        #expect(EventType.jobFailed == "ecg.analysis.job.failed.v1")
        let topics = Topics(environment: [:])
        #expect(
            [topics.authEvents, topics.mediaEvents, topics.analysisRequests, topics.analysisEvents]
                == ["ecg.auth.events", "ecg.media.events", "ecg.analysis.requests", "ecg.analysis.events"]
        )
        #expect(Topics(environment: ["TOPIC_AUTH_EVENTS": "x.auth"]).authEvents == "x.auth")
        #expect(Topics.deadLetter(for: "ecg.auth.events") == "ecg.auth.events.dlq")
    }

    @Test("media events")
    func media() throws {
        try Self.check(
            VideoUploaded(fileKey: VideoKey("uploads/1/a.mp4"), ownerID: UserID(7), contentType: "video/mp4", sizeBytes: 42),
            #"{"content_type":"video/mp4","file_key":"uploads/1/a.mp4","owner_id":"7","size_bytes":42}"#
        )
        try Self.check(VideoDeleted(fileKey: VideoKey("uploads/1/a.mp4"), ownerID: UserID(7)), #"{"file_key":"uploads/1/a.mp4","owner_id":"7"}"#)
    }

    @Test("auth events")
    func auth() throws {
        try Self.check(UserDeleted(userID: UserID(7), deletedAt: Self.time), #"{"deleted_at":"2025-09-09T12:30:00.000Z","user_id":"7"}"#)
    }

    @Test("analysis requests: with and without a language, and cancellations")
    func requests() throws {
        let request = JobRequested(
            jobID: Self.jobID,
            userID: UserID(7),
            videoFileKey: VideoKey("uploads/1/a.mp4"),
            analysisType: "full_analysis",
            videoURL: "http://s3/a?X-Amz-Signature=s",
            videoURLExpiresAt: Self.time,
            requestedAt: Self.time
        )
        try Self.check(
            request,
            #"{"analysis_type":"full_analysis","job_id":"0b7a5e9e-6b1e-4d2a-9a43-6c1f2d3e4f50","requested_at":"2025-09-09T12:30:00.000Z","user_id":"7","video_file_key":"uploads/1/a.mp4","video_url":"http://s3/a?X-Amz-Signature=s","video_url_expires_at":"2025-09-09T12:30:00.000Z"}"#
        )
        var english = request
        english.language = "en"
        #expect(try Self.json(english).contains(#""language":"en""#))
        try Self.check(JobCancelled(jobID: Self.jobID), #"{"job_id":"0b7a5e9e-6b1e-4d2a-9a43-6c1f2d3e4f50"}"#)
    }

    @Test("worker events")
    func worker() throws {
        try Self.check(JobStarted(jobID: Self.jobID, workerID: "w1"), #"{"job_id":"0b7a5e9e-6b1e-4d2a-9a43-6c1f2d3e4f50","worker_id":"w1"}"#)
        try Self.check(JobProgress(jobID: Self.jobID, progress: 40, stage: "recognising"), #"{"job_id":"0b7a5e9e-6b1e-4d2a-9a43-6c1f2d3e4f50","progress":40,"stage":"recognising"}"#)
        try Self.check(
            JobFailed(jobID: Self.jobID, error: .init(code: "unreadable_video", message: "bad"), retryable: false),
            #"{"error":{"code":"unreadable_video","message":"bad"},"job_id":"0b7a5e9e-6b1e-4d2a-9a43-6c1f2d3e4f50","retryable":false}"#
        )
        let result = AnalysisResult(
            captions: [
                .init(
                    start: 0.5,
                    end: 2,
                    text: "he was not",
                    emotion: "calm",
                    intensity: 0.25,
                    extra: [
                        "words": .array([.object(["word": .string("he"), "start": .number(0.5), "end": .number(0.7), "confidence": .number(0.9)])])
                    ]
                )
            ],
            emotions: [.init(start: 0.5, end: 2, label: "calm", score: 0.25)],
            analysisTime: .string("2025-09-09T12:30:00Z"),
            extra: ["method": .string("m"), "processing_seconds": .number(1.5)]
        )
        try Self.check(
            JobCompleted(jobID: Self.jobID, result: result),
            #"{"job_id":"0b7a5e9e-6b1e-4d2a-9a43-6c1f2d3e4f50","result":{"analysis_time":"2025-09-09T12:30:00Z","captions":[{"emotion":"calm","end":2,"intensity":0.25,"start":0.5,"text":"he was not","words":[{"confidence":0.9,"end":0.7,"start":0.5,"word":"he"}]}],"emotions":[{"end":2,"label":"calm","score":0.25,"start":0.5}],"method":"m","processing_seconds":1.5}}"#
        )
    }
}
