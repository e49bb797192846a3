import ECGEvents
import ECGMessaging
import ECGPlatform
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Routes 10, 11, `stream` and `jobs` of SPEC.md §3.
struct JobController: Sendable {
    let jobs: JobRepository
    let media: MediaClient
    let outbox: Outbox
    let topics: Topics
    let changes: JobChangeBroadcaster
    let heartbeat: Duration

    static let analysisTypes = ["emotion_analysis", "caption_generation", "full_analysis"]
    static let acceptedMessage = "비디오 분석이 시작되었습니다."

    struct ProcessVideoRequest: Decodable {
        let video_file_key: String
        let analysis_type: String
        /// The spoken language (BCP 47), passed to the worker; absent means English.
        let language: String?
    }

    struct Accepted: Codable, Sendable {
        let job_id: String
        let status: String
        let message: String
    }

    struct JobList: Codable, Sendable { let items: [JobResponse] }

    func addRoutes(to routes: DocumentedRoutes<RouterGroup<ECGRequestContext>>) {
        routes.post(
            "/api/v1/ml/process-video",
            OpenAPIOperation(
                "Start analysing one of the caller's uploaded videos",
                body: .object(
                    ["video_file_key": .text, "analysis_type": .string(enumValues: Self.analysisTypes), "language": .string(maxLength: 35)],
                    required: ["video_file_key", "analysis_type"]
                ),
                responses: [
                    202: .init("Accepted", .record(["job_id": .string(format: "uuid"), "status": .text, "message": .text])),
                    404: .init("Not the caller's video (video_not_found)", .error),
                    409: .init("Not uploaded yet (video_not_uploaded)", .error),
                    422: .init("Validation error", .error),
                    503: .init("media-service unavailable", .error),
                ],
                headers: [("Idempotency-Key", false)]
            ),
            use: processVideo
        )
        routes.get(
            "/api/v1/ml/job-status/{job_id}",
            OpenAPIOperation("A job's status", responses: [200: .init("The job", JobResponse.schema), 404: .init("Unknown job", .error)]),
            use: status
        )
        routes.get(
            "/api/v1/ml/job-status/{job_id}/stream",
            OpenAPIOperation(
                "Server-Sent Events: the job's status now and on every change, until it ends",
                responses: [
                    200: .init("text/event-stream of job-status JSON", .text, contentType: "text/event-stream"), 404: .init("Unknown job", .error),
                ]
            ),
            use: stream
        )
        routes.get(
            "/api/v1/ml/jobs",
            OpenAPIOperation("The caller's jobs, newest first", responses: [200: .init("Jobs", .record(["items": .array(JobResponse.schema)]))]),
            use: list
        )
    }

    // MARK: - Handlers

    @Sendable func processVideo(request: Request, context: ECGRequestContext) async throws -> JSONResponse<Accepted> {
        let userID = try context.requireIdentity().subject
        let body = try await request.decodeJSON(ProcessVideoRequest.self, context: context)
        let fileKey = body.video_file_key.trimmingCharacters(in: .whitespaces)
        guard !fileKey.isEmpty, fileKey.count <= 1024 else {
            throw APIError.validation(field: "video_file_key", "must be a file key of 1–1024 characters")
        }
        guard Self.analysisTypes.contains(body.analysis_type) else {
            throw APIError.validation(field: "analysis_type", "must be one of \(Self.analysisTypes.joined(separator: ", "))")
        }
        if let language = body.language, language.wholeMatch(of: /[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*/) == nil || language.count > 35 {
            throw APIError.validation(field: "language", "must be a language tag such as en or en-US")
        }
        let idempotencyKey = request.headers[HTTPField.Name("Idempotency-Key")!].map { String($0.prefix(200)) }
        if let idempotencyKey, idempotencyKey.isEmpty { throw APIError.validation(field: "Idempotency-Key", "must not be empty") }

        guard let video = try await media.video(fileKey: fileKey), video.owner_id == userID else {
            throw APIError.notFound("No video with this key belongs to you.", code: "video_not_found")
        }
        guard video.status == "uploaded", let videoURL = video.download_url else {
            throw APIError(.conflict, code: "video_not_uploaded", detail: "The video has not been uploaded yet; finish the upload first.")
        }
        let expiresAt = video.download_url_expires_at.flatMap(EventCoding.parseTimestamp) ?? Date().addingTimeInterval(3600)

        let jobID = UUID()
        let outbox = self.outbox
        let topic = topics.analysisRequests
        let logger = context.logger
        let (job, _) = try await jobs.create(
            id: jobID,
            userID: userID,
            videoFileKey: fileKey,
            analysisType: body.analysis_type,
            idempotencyKey: idempotencyKey
        ) { connection in
            let now = Date()
            let event = CloudEvent(
                source: "analysis-service",
                type: EventType.jobRequested,
                subject: jobID.uuidString.lowercased(),
                data: JobRequested(
                    job_id: jobID.uuidString.lowercased(),
                    user_id: userID,
                    video_file_key: fileKey,
                    analysis_type: body.analysis_type,
                    video_url: videoURL,
                    video_url_expires_at: expiresAt,
                    requested_at: now,
                    language: body.language
                )
            )
            try await outbox.add(event, topic: topic, on: connection, logger: logger)
        }
        return JSONResponse(
            Accepted(job_id: job.id.uuidString.lowercased(), status: "processing", message: Self.acceptedMessage),
            status: .accepted
        )
    }

    @Sendable func status(request: Request, context: ECGRequestContext) async throws -> JSONResponse<JobResponse> {
        JSONResponse(JobResponse(try await ownedJob(context)))
    }

    @Sendable func list(request: Request, context: ECGRequestContext) async throws -> JSONResponse<JobList> {
        let userID = try context.requireIdentity().subject
        return JSONResponse(JobList(items: try await jobs.list(userID: userID).map(JobResponse.init)))
    }

    /// One `data:` line with the current status, then one per change, until a terminal state;
    /// a comment line every `heartbeat` keeps proxies from closing an idle stream.
    @Sendable func stream(request: Request, context: ECGRequestContext) async throws -> Response {
        let first = try await ownedJob(context)
        let jobs = self.jobs
        let changes = self.changes
        let heartbeat = self.heartbeat
        let userID = first.userID
        let body = ResponseBody { writer in
            var last = first
            try await writer.write(Self.event(for: last))
            guard !last.state.isTerminal else { return try await writer.finish(nil) }
            let subscription = changes.subscribe(jobID: first.id)
            defer { changes.unsubscribe(subscription) }
            while true {
                let changed = await subscription.wait(upTo: heartbeat)
                // Read again even after a heartbeat: a notification may have been missed while reconnecting.
                guard let current = try await jobs.find(id: first.id, userID: userID) else { break }
                if current != last {
                    last = current
                    try await writer.write(Self.event(for: current))
                    if current.state.isTerminal { break }
                } else if !changed {
                    try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                }
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no"],
            body: body
        )
    }

    private static func event(for job: Job) throws -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(JobResponse(job)), as: UTF8.self)
        return ByteBuffer(string: "data: \(json)\n\n")
    }

    func ownedJob(_ context: ECGRequestContext) async throws -> Job {
        let userID = try context.requireIdentity().subject
        guard let raw = context.parameters.get("job_id"), let id = UUID(uuidString: raw),
            let job = try await jobs.find(id: id, userID: userID)
        else { throw APIError.notFound("No job with this id belongs to you.", code: "job_not_found") }
        return job
    }
}
