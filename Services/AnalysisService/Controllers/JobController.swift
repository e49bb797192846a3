import ECGEvents
import ECGMessaging
import ECGPlatform
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// Routes 10, 11, `stream` and `jobs` of SPEC.md §3: HTTP only (decoding, validation, answers); the
/// changes and their events are `AnalysisJobs`' (its `JobError`s are mapped to HTTP below).
struct JobController: Sendable {
    let jobs: AnalysisJobs
    let videos: any VideoLookup
    let changes: JobChangeBroadcaster
    let heartbeat: Duration
    /// Per user: open streams on this replica, review L11 (jobs in processing are `AnalysisJobs`').
    var maxStreamsPerUser = 10
    var streams = StreamSlots()
    /// job-status from memory (issue 13); nil reads the database on every poll.
    var statusCache: JobStatusCache? = nil

    static let acceptedMessage = "비디오 분석이 시작되었습니다."

    func addRoutes(to routes: DocumentedRoutes<RouterGroup<ECGRequestContext>>) {
        routes.post(
            "/api/v1/ml/process-video",
            OpenAPIOperation(
                "Start analysing one of the caller's uploaded videos",
                body: .object(
                    ["video_file_key": .text, "analysis_type": .string(enumValues: AnalysisType.wireValues), "language": .string(maxLength: 35)],
                    required: ["video_file_key", "analysis_type"]
                ),
                responses: [
                    202: .init("Accepted", .record(["job_id": .string(format: "uuid"), "status": .text, "message": .text])),
                    404: .init("Not the caller's video (video_not_found)", .error),
                    409: .init("Not uploaded yet (video_not_uploaded), or its file changed after upload (video_changed)", .error),
                    422: .init("Validation error, or an Idempotency-Key reused with another request (idempotency_key_reused)", .error),
                    429: .init("The caller already has the maximum of jobs in processing (too_many_jobs), with Retry-After", .error),
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
                    429: .init("The caller has the maximum of open streams on this replica (too_many_streams), with Retry-After", .error),
                ]
            ),
            use: stream
        )
        routes.get(
            "/api/v1/ml/jobs",
            OpenAPIOperation(
                "The caller's jobs, newest first, a page at a time (pass next_cursor back as cursor); status and video_file_key filter",
                responses: [
                    200: .init("Jobs", .record(["items": .array(JobResponse.schema), "next_cursor": .nullable(.text)])),
                    422: .init("limit outside 1–100, a cursor this list did not return, or an unknown status (validation_error)", .error),
                ],
                query: [("limit", false), ("cursor", false), ("status", false), ("video_file_key", false)]
            ),
            use: list
        )
        routes.post(
            "/api/v1/ml/jobs/{job_id}/cancel",
            OpenAPIOperation(
                "Cancels a running job: it fails with error.code cancelled, its stream ends, workers are told to stop",
                responses: [
                    200: .init("The cancelled job", JobResponse.schema),
                    404: .init("Not the caller's job (job_not_found)", .error),
                    409: .init("The job already completed or failed (job_finished)", .error),
                ]
            ),
            use: cancel
        )
        routes.post(
            "/api/v1/ml/jobs/{job_id}/retry",
            OpenAPIOperation(
                "Starts a new job for the same video and analysis as a failed job whose failure was retryable",
                responses: [
                    202: .init("The new job", .record(["job_id": .string(format: "uuid"), "status": .text, "message": .text])),
                    404: .init("Not the caller's job (job_not_found), or its video is gone (video_not_found)", .error),
                    409: .init("The job did not fail, or its failure cannot be retried (job_not_retryable)", .error),
                    503: .init("media-service unavailable", .error),
                ]
            ),
            use: retry
        )
    }

    // MARK: - Handlers

    @Sendable func processVideo(request: Request, context: ECGRequestContext) async throws -> JSONResponse<Accepted> {
        let userID = try context.requireUserID()
        let body = try await request.decodeJSON(ProcessVideoRequest.self, context: context)
        let fileKey = body.videoFileKey.trimmingCharacters(in: .whitespaces)
        guard !fileKey.isEmpty, fileKey.count <= 1024 else {
            throw APIError.validation(field: "video_file_key", "must be a file key of 1–1024 characters")
        }
        guard let analysisType = AnalysisType(rawValue: body.analysisType) else {
            throw APIError.validation(field: "analysis_type", "must be one of \(AnalysisType.wireValues.joined(separator: ", "))")
        }
        if let language = body.language, language.wholeMatch(of: /[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*/) == nil || language.count > 35 {
            throw APIError.validation(field: "language", "must be a language tag such as en or en-US")
        }
        let idempotencyKey = request.headers[.idempotencyKey].map { String($0.prefix(200)) }
        if let idempotencyKey, idempotencyKey.isEmpty { throw APIError.validation(field: "Idempotency-Key", "must not be empty") }
        let job = try await jobs.request(
            AnalysisJobs.Request(userID: userID, videoFileKey: VideoKey(fileKey), analysisType: analysisType, language: body.language),
            idempotencyKey: idempotencyKey,
            videos: videos,
            logger: context.logger
        )
        // A replay answers with the job's real status (review L12), not always "processing".
        return JSONResponse(Accepted(job), status: .accepted)
    }

    @Sendable func cancel(request: Request, context: ECGRequestContext) async throws -> JSONResponse<JobResponse> {
        JSONResponse(JobResponse(try await jobs.cancel(id: try Self.jobID(context), userID: try context.requireUserID())))
    }

    @Sendable func retry(request: Request, context: ECGRequestContext) async throws -> JSONResponse<Accepted> {
        let userID = try context.requireUserID()
        let next = try await jobs.retry(id: try Self.jobID(context), userID: userID, videos: videos, logger: context.logger)
        return JSONResponse(Accepted(next), status: .accepted)
    }

    @Sendable func status(request: Request, context: ECGRequestContext) async throws -> Response {
        guard let statusCache else {
            return try JSONResponse(JobResponse(try await ownedJob(context))).response(from: request, context: context)
        }
        let userID = try context.requireUserID()
        guard let body = try await statusCache.body(jobID: try Self.jobID(context).uuid, userID: userID) else { throw JobError.notFound }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
    }

    @Sendable func list(request: Request, context: ECGRequestContext) async throws -> JSONResponse<JobList> {
        let userID = try context.requireUserID()
        let page = try PageRequest(request)
        let query = request.uri.queryParameters
        var filter = JobFilter()
        if let status = query.get("status") {
            guard let value = JobState.Status(rawValue: status) else {
                throw APIError.validation(field: "status", "must be processing, completed or failed")
            }
            filter.status = value
        }
        if let key = query.get("video_file_key") {
            guard !key.isEmpty, key.count <= 1024 else {
                throw APIError.validation(field: "video_file_key", "must be a file key of 1–1024 characters")
            }
            filter.videoFileKey = VideoKey(key)
        }
        if let after = page.after, JobID(after.id) == nil {
            throw APIError.validation(field: "cursor", "is not a cursor this list returned; start again without it")
        }
        let (items, next) = page.page(try await jobs.jobs(userID: userID, filter: filter, page: page)) {
            PageCursor(createdAt: $0.createdAt, id: $0.id.description)
        }
        return JSONResponse(JobList(items: items.map(JobResponse.init), nextCursor: next?.token))
    }

    /// One `data:` line with the current status, then one per change, until a terminal state;
    /// a comment line every `heartbeat` keeps proxies from closing an idle stream.
    @Sendable func stream(request: Request, context: ECGRequestContext) async throws -> Response {
        let first = try await ownedJob(context)
        let jobs = self.jobs
        let changes = self.changes
        let heartbeat = self.heartbeat
        let userID = first.userID
        // At most `maxStreamsPerUser` open streams per user on this replica (review L11).
        let slots = self.streams
        guard slots.acquire(userID, limit: maxStreamsPerUser) else {
            throw APIError(
                .tooManyRequests,
                code: "too_many_streams",
                detail: "You have too many open job streams; close one or poll job-status.",
                headers: [.retryAfter: "10"]
            )
        }
        let body = ResponseBody { writer in
            defer { slots.release(userID) }
            var last = first
            try await writer.write(Self.event(for: last))
            guard !last.state.isTerminal else { return try await writer.finish(nil) }
            let subscription = changes.subscribe(jobID: first.id)
            defer { changes.unsubscribe(subscription) }
            while true {
                let changed = await subscription.wait(upTo: heartbeat)
                // Read again even after a heartbeat: a notification may have been missed while reconnecting.
                let current: Job
                do { current = try await jobs.job(id: first.id, userID: userID) } catch JobError.notFound { break }
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
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache", .accelBuffering: "no"],
            body: body
        )
    }

    private static func event(for job: Job) throws -> ByteBuffer {
        var event = ByteBuffer(string: "data: ")
        var json = try ResponseJSON.encode(JobResponse(job))
        event.writeBuffer(&json)
        event.writeString("\n\n")
        return event
    }

    func ownedJob(_ context: ECGRequestContext) async throws -> Job {
        try await jobs.job(id: try Self.jobID(context), userID: try context.requireUserID())
    }

    /// The `{job_id}` of the path; text that is no job id names no job of the caller's.
    static func jobID(_ context: ECGRequestContext) throws -> JobID {
        guard let raw = context.parameters.get("job_id"), let id = JobID(raw) else { throw JobError.notFound }
        return id
    }
}

extension JobError: APIErrorConvertible {
    var apiError: APIError {
        switch self {
        case .notFound:
            APIError.notFound("No job with this id belongs to you.", code: "job_not_found")
        case .videoNotFound:
            APIError.notFound("No video with this key belongs to you.", code: "video_not_found")
        case .videoNotUploaded:
            APIError(.conflict, code: "video_not_uploaded", detail: "The video has not been uploaded yet; finish the upload first.")
        case .notRetryable(let status, let failureCode):
            APIError(
                .conflict,
                code: "job_not_retryable",
                detail: status == .failed
                    ? "This job's failure would happen again (\(failureCode ?? "unknown")); retrying cannot help."
                    : "Only a failed job can be retried."
            )
        case .finished:
            APIError(.conflict, code: "job_finished", detail: "The job has already completed or failed; there is nothing to cancel.")
        case .idempotencyConflict:
            APIError(.conflict, code: "idempotency_conflict", detail: "A request with this Idempotency-Key is in progress; retry.")
        case .idempotencyKeyReused:
            APIError(
                .unprocessableContent,
                code: "idempotency_key_reused",
                detail: "This Idempotency-Key was used with another request; use a new key for a new request."
            )
        case .tooManyJobs(let limit):
            APIError(
                .tooManyRequests,
                code: "too_many_jobs",
                detail: "You already have \(limit) jobs in processing; wait for one to finish.",
                headers: [.retryAfter: "30"]
            )
        }
    }
}

/// Open streams per user on this replica; a slot is taken before a stream starts and given back when
/// its body ends (finished, failed or the client went away).
final class StreamSlots: Sendable {
    private let open = Mutex([UserID: Int]())

    func acquire(_ userID: UserID, limit: Int) -> Bool {
        open.withLock { open in
            let count = open[userID, default: 0]
            guard count < limit else { return false }
            open[userID] = count + 1
            return true
        }
    }

    func release(_ userID: UserID) {
        open.withLock { open in
            let count = open[userID, default: 0] - 1
            open[userID] = count > 0 ? count : nil
        }
    }

    func count(_ userID: UserID) -> Int { open.withLock { $0[userID, default: 0] } }
}
