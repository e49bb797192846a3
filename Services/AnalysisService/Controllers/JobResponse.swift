import ECGEvents
import ECGPlatform
import Foundation

/// The job-status body of SPEC.md §3 row 11.
struct JobResponse: Codable, Sendable, Equatable {
    let job_id: String
    let status: String
    let progress: Int
    /// What the worker is doing (`downloading`, `recognising`, …), `completed` or `failed`; null before a worker reported.
    let stage: String?
    let result: AnalysisResult?
    let error: ErrorBody?
    let analysis_type: String
    let video_file_key: String
    let created_at: String
    let updated_at: String

    init(_ job: Job) {
        job_id = job.id.description
        status = job.state.status.rawValue
        progress = job.state.progress
        stage = job.state.stage
        result = job.state.status == .completed ? job.state.result : nil
        error =
            job.state.status == .failed
            ? job.state.error.map { ErrorBody(code: $0.code, message: $0.message, retryable: job.state.retryable ?? false) } : nil
        analysis_type = job.analysisType.rawValue
        video_file_key = job.videoFileKey
        created_at = EventCoding.formatTimestamp(job.createdAt)
        updated_at = EventCoding.formatTimestamp(job.updatedAt)
    }

    /// `error` of SPEC.md plus whether `POST …/retry` may help.
    struct ErrorBody: Codable, Sendable, Equatable {
        let code: String
        let message: String
        let retryable: Bool
    }

    /// Nulls are written out, as clients expect `result: null` until completion.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(job_id, forKey: .job_id)
        try container.encode(status, forKey: .status)
        try container.encode(progress, forKey: .progress)
        try container.encode(stage, forKey: .stage)
        try container.encode(result, forKey: .result)
        try container.encode(error, forKey: .error)
        try container.encode(analysis_type, forKey: .analysis_type)
        try container.encode(video_file_key, forKey: .video_file_key)
        try container.encode(created_at, forKey: .created_at)
        try container.encode(updated_at, forKey: .updated_at)
    }

    static let schema = JSONSchema.object(
        [
            "job_id": .string(format: "uuid"),
            "status": .string(enumValues: ["processing", "completed", "failed"]),
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
            "analysis_type": .text,
            "video_file_key": .text,
            "created_at": .dateTime,
            "updated_at": .dateTime,
        ],
        required: ["job_id", "status", "progress", "stage", "result", "error", "analysis_type", "video_file_key", "created_at", "updated_at"]
    )
}
