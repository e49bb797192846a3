import ECGEvents
import ECGPlatform
import Foundation

/// The job-status body of SPEC.md §3 row 11.
struct JobResponse: Codable, Sendable, Equatable {
    let jobID: JobID
    let status: JobState.Status
    let progress: Int
    /// What the worker is doing (`downloading`, `recognising`, …), `completed` or `failed`; null before a worker reported.
    let stage: String?
    let result: AnalysisResult?
    let error: ErrorBody?
    let analysisType: AnalysisType
    let videoFileKey: VideoKey
    let createdAt: String
    let updatedAt: String

    init(_ job: Job) {
        jobID = job.id
        status = job.state.status
        progress = job.state.progress
        stage = job.state.stage
        result = job.state.status == .completed ? job.state.result : nil
        error =
            job.state.status == .failed
            ? job.state.error.map { ErrorBody(code: $0.code, message: $0.message, retryable: job.state.retryable ?? false) } : nil
        analysisType = job.analysisType
        videoFileKey = job.videoFileKey
        createdAt = EventCoding.formatTimestamp(job.createdAt)
        updatedAt = EventCoding.formatTimestamp(job.updatedAt)
    }

    /// `error` of SPEC.md plus whether `POST …/retry` may help.
    struct ErrorBody: Codable, Sendable, Equatable {
        let code: String
        let message: String
        let retryable: Bool
    }

    /// SPEC's names on the wire.
    enum CodingKeys: String, CodingKey {
        case jobID = "job_id"
        case status, progress, stage, result, error
        case analysisType = "analysis_type"
        case videoFileKey = "video_file_key"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// Nulls are written out, as clients expect `result: null` until completion.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(jobID, forKey: .jobID)
        try container.encode(status, forKey: .status)
        try container.encode(progress, forKey: .progress)
        try container.encode(stage, forKey: .stage)
        try container.encode(result, forKey: .result)
        try container.encode(error, forKey: .error)
        try container.encode(analysisType, forKey: .analysisType)
        try container.encode(videoFileKey, forKey: .videoFileKey)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }

    static let schema = JSONSchema.object(
        [
            "job_id": .string(format: "uuid"),
            "status": .string(enumValues: JobState.Status.allCases.map(\.rawValue)),
            "progress": .integer(minimum: 0, maximum: 100),
            "stage": .nullable(.text),
            "result": .nullable(
                .object(
                    [
                        "captions": .array(
                            .object(
                                [
                                    "start": .number, "end": .number, "text": .text, "emotion": .text, "intensity": .number,
                                    "words": .array(.record(["word": .text, "start": .number, "end": .number, "confidence": .number])),
                                ],
                                required: ["start", "end", "text", "emotion", "intensity"]
                            )
                        ),
                        "emotions": .array(.record(["start": .number, "end": .number, "label": .text, "score": .number])),
                        "analysis_time": .dateTime,
                        "processing_seconds": .number,
                        "method": .text,
                    ],
                    required: ["captions", "emotions", "analysis_time"]
                )
            ),
            "error": .nullable(.record(["code": .text, "message": .text, "retryable": .boolean])),
            "analysis_type": .string(enumValues: AnalysisType.wireValues),
            "video_file_key": .text,
            "created_at": .dateTime,
            "updated_at": .dateTime,
        ],
        required: ["job_id", "status", "progress", "stage", "result", "error", "analysis_type", "video_file_key", "created_at", "updated_at"]
    )
}
