import AsyncHTTPClient
import ECGEvents
import ECGKafka
import ECGMessaging
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// The reference ML worker (SPEC.md §5): consumes `ecg.analysis.requests` in group `ecg-ml-workers`,
/// downloads the video, runs `CaptionAnalysis`, and reports `started`, `progress` by stage, and
/// `completed` or `failed` on `ecg.analysis.events`. A request's offset is committed only after its
/// final event was acknowledged; if that event cannot be published the worker stops without committing,
/// so the request goes to the next worker instead of being lost.
struct CaptionWorker: Service {
    enum Mode: String, Sendable {
        /// Download, recognise, build captions.
        case recognise
        /// Complete at once with an empty result (pipeline benchmarks).
        case none
    }

    let consumer: KafkaConsumer
    let events: EventPublisher
    let topics: Topics
    let workerID: String
    let mode: Mode
    let analysis: CaptionAnalysis?
    /// Cancellations seen by this worker's `CancellationWatcher`.
    let cancelled: CancelledJobs
    let httpClient: HTTPClient
    /// ECS task scale-in protection, held from taking a job until its offset is committed.
    let protection: ScaleInProtection
    /// The largest video the worker downloads.
    var maximumDownloadBytes = 5 << 30
    /// How long a download may take, connecting included (AsyncHTTPClient retries a refused connection
    /// until then).
    var downloadTimeout: TimeAmount = .seconds(300)
    let logger: Logger

    struct FinalEventNotPublished: Error, CustomStringConvertible {
        let jobID: JobID
        let underlying: any Error
        var description: String { "the final event of job \(jobID) could not be published: \(underlying)" }
    }

    func run() async throws {
        try await withGracefulShutdownHandler {
            for await message in consumer.messages {
                let workedOnAJob = try await handle(message)
                do { try await consumer.commit(message) } catch { logger.warning("commit failed", metadata: ["error": "\(error)"]) }
                if workedOnAJob { await protection.release() }
            }
        } onGracefulShutdown: {
            consumer.stop()
        }
        await consumer.close()
    }

    /// Works on one request; true when it took the job (and so holds scale-in protection).
    private func handle(_ message: KafkaMessage) async throws -> Bool {
        if message.header(EventHeader.type) == EventType.jobCancelled { return false }  // the watcher has it
        let request: JobRequested
        do {
            request = try ReceivedEvent(message: message).decode(JobRequested.self).data
        } catch {
            logger.warning("skipping a request that is not a job.requested event", metadata: ["offset": "\(message.offset)", "error": "\(error)"])
            return false
        }
        var jobLogger = logger
        jobLogger[metadataKey: "job_id"] = .stringConvertible(request.jobID)
        guard !cancelled.contains(request.jobID) else {
            jobLogger.info("job was cancelled before it started; skipped")
            return false
        }
        await protection.protect()
        let final: (type: String, event: any Codable & Sendable)
        do {
            try await publish(EventType.jobStarted, request.jobID, JobStarted(jobID: request.jobID, workerID: workerID))
            let result = try await analyse(request)
            final = (EventType.jobCompleted, JobCompleted(jobID: request.jobID, result: result))
            jobLogger.info("job completed", metadata: ["captions": "\(result.captions.count)"])
        } catch is CaptionAnalysis.Cancelled {
            // analysis-service already ended the job; nothing to report.
            jobLogger.info("job cancelled: work stopped")
            return true
        } catch let rejection as CaptionAnalysis.Rejection {
            final = (
                EventType.jobFailed,
                JobFailed(jobID: request.jobID, error: .init(code: rejection.code, message: rejection.message), retryable: false)
            )
            jobLogger.warning("job failed", metadata: ["code": "\(rejection.code)"])
        } catch {
            final = (
                EventType.jobFailed,
                JobFailed(
                    jobID: request.jobID,
                    // The details (hosts, addresses, paths) stay in the worker's log; clients see a fixed text
                    // (security review L7).
                    error: .init(code: "worker_error", message: "The worker could not finish this job; retrying it may succeed."),
                    retryable: true
                )
            )
            jobLogger.warning("job failed", metadata: ["error": "\(error)"])
        }
        try await publishFinal(final.type, request.jobID, final.event)
        return true
    }

    private func analyse(_ request: JobRequested) async throws -> AnalysisResult {
        guard mode == .recognise, let analysis else {
            return AnalysisResult(
                captions: [],
                emotions: [],
                analysisTime: .string(CaptionAnalysis.timestamp(Date())),
                extra: ["method": .string("none: analysis skipped (--analysis none)")]
            )
        }
        let language = request.language ?? "en"
        try CaptionAnalysis.checkLanguage(language)
        let reporter = ProgressReporter(jobID: request.jobID) { progress in
            try? await publish(EventType.jobProgress, request.jobID, progress)
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-\(UUID.random().lowercasedString)")
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            reporter.enqueue(.downloading, 0)
            try await download(request.videoURL, to: file, jobID: request.jobID)
            let jobID = request.jobID
            let cancelled = self.cancelled
            let result = try await analysis.analyse(
                file,
                language: language,
                isCancelled: { cancelled.contains(jobID) },
                progress: { stage, share in reporter.enqueue(stage, share) }
            )
            await reporter.drain()
            return result
        } catch {
            // The progress already queued goes out before the failure.
            await reporter.drain()
            throw error
        }
    }

    private func download(_ url: String, to file: URL, jobID: JobID) async throws {
        let response = try await httpClient.execute(HTTPClientRequest(url: url), timeout: downloadTimeout)
        switch response.status.code {
        case 200: break
        case 403, 404:
            throw CaptionAnalysis.Rejection(
                code: "video_unavailable",
                message: "The video URL answered HTTP \(response.status.code): the video is gone or the URL expired."
            )
        default:
            throw DownloadFailed(status: Int(response.status.code))
        }
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        var written = 0
        for try await chunk in response.body {
            if cancelled.contains(jobID) { throw CaptionAnalysis.Cancelled() }
            written += chunk.readableBytes
            guard written <= maximumDownloadBytes else {
                throw CaptionAnalysis.Rejection(
                    code: "video_too_large",
                    message: "The video is larger than the worker's limit of \(maximumDownloadBytes) bytes."
                )
            }
            try handle.write(contentsOf: Data(chunk.readableBytesView))
        }
    }

    struct DownloadFailed: Error, CustomStringConvertible {
        let status: Int
        var description: String { "the video URL answered HTTP \(status)" }
    }

    /// The final event is retried for a while; if it still cannot be published the worker stops
    /// without committing the request, and the request is redelivered.
    private func publishFinal(_ type: String, _ jobID: JobID, _ data: any Codable & Sendable) async throws {
        var delay = Duration.milliseconds(200)
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                return try await publish(type, jobID, data)
            } catch {
                guard ContinuousClock.now + delay < deadline else { throw FinalEventNotPublished(jobID: jobID, underlying: error) }
                logger.warning("final event not published yet; retrying", metadata: ["job_id": "\(jobID)", "error": "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    private func publish(_ type: String, _ jobID: JobID, _ data: some Codable & Sendable) async throws {
        try await events.publish(
            CloudEvent(source: "ecg-caption-worker/\(workerID)", type: type, subject: jobID.description, data: data),
            topic: topics.analysisEvents
        )
    }
}
