import AsyncHTTPClient
import ECGEvents
import ECGKafka
import ECGMessaging
import Foundation
import Logging
import ServiceLifecycle

/// The reference ML worker (SPEC.md §5): consumes `ecg.analysis.requests` in group `ecg-ml-workers`,
/// downloads the video, measures its audio with ffmpeg, and reports `started`, `progress`, and
/// `completed` or `failed` on `ecg.analysis.events`. Offsets are committed after the final event,
/// so a worker killed mid-job leaves the request to the next worker.
struct ReferenceWorker: Service {
    enum Analysis: String, Sendable { case measure, none }

    let consumer: KafkaConsumer
    let events: EventPublisher
    let topics: Topics
    let workerID: String
    let analysis: Analysis
    let httpClient: HTTPClient
    let logger: Logger

    func run() async throws {
        await withGracefulShutdownHandler {
            for await message in consumer.messages {
                await handle(message)
                do { try await consumer.commit(message) } catch { logger.info("commit failed", metadata: ["error": "\(error)"]) }
            }
        } onGracefulShutdown: {
            consumer.stop()
        }
        await consumer.close()
    }

    private func handle(_ message: KafkaMessage) async {
        let request: JobRequested
        do {
            request = try ReceivedEvent(message: message).decode(JobRequested.self).data
        } catch {
            logger.warning("skipping a request that is not a job.requested event", metadata: ["offset": "\(message.offset)", "error": "\(error)"])
            return
        }
        var jobLogger = logger
        jobLogger[metadataKey: "job_id"] = .string(request.job_id)
        let started = ContinuousClock.now
        do {
            try await publish(EventType.jobStarted, request.job_id, JobStarted(job_id: request.job_id, worker_id: workerID))
            let result: AnalysisResult
            switch analysis {
            case .none:
                result = AnalysisResult(captions: [], emotions: [], analysis_time: 0, method: "none: analysis skipped (--analysis none)")
            case .measure:
                result = try await measure(request, started: started)
            }
            try await publish(EventType.jobCompleted, request.job_id, JobCompleted(job_id: request.job_id, result: result))
            jobLogger.info("job completed", metadata: ["captions": "\(result.captions.count)"])
        } catch let failure as JobFailed.Failure {
            try? await publish(EventType.jobFailed, request.job_id, JobFailed(job_id: request.job_id, error: failure, retryable: false))
            jobLogger.warning("job failed", metadata: ["code": "\(failure.code)"])
        } catch {
            try? await publish(
                EventType.jobFailed,
                request.job_id,
                JobFailed(
                    job_id: request.job_id,
                    error: .init(code: "worker_error", message: "The worker could not finish: \(error)"),
                    retryable: true
                )
            )
            jobLogger.warning("job failed", metadata: ["error": "\(error)"])
        }
    }

    private func measure(_ request: JobRequested, started: ContinuousClock.Instant) async throws -> AnalysisResult {
        try await publish(EventType.jobProgress, request.job_id, JobProgress(job_id: request.job_id, progress: 10, stage: "downloading"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-\(request.job_id)")
        defer { try? FileManager.default.removeItem(at: file) }
        try await download(request.video_url, to: file)
        try await publish(EventType.jobProgress, request.job_id, JobProgress(job_id: request.job_id, progress: 40, stage: "measuring_audio"))
        let measurement: AudioMeasurement
        do {
            measurement = try await AudioMeasurement.measure(file: file)
        } catch AudioMeasurement.Failure.unreadable(let reason) {
            throw JobFailed.Failure(code: "unreadable_video", message: "The file could not be read as a video: \(reason)")
        }
        try await publish(EventType.jobProgress, request.job_id, JobProgress(job_id: request.job_id, progress: 80, stage: "building_captions"))
        let elapsed = ContinuousClock.now - started
        return CaptionBuilder.result(
            from: measurement,
            analysisTime: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        )
    }

    private func download(_ url: String, to file: URL) async throws {
        let response = try await httpClient.execute(HTTPClientRequest(url: url), timeout: .seconds(300))
        guard response.status == .ok else {
            throw JobFailed.Failure(code: "download_failed", message: "The video URL answered HTTP \(response.status.code).")
        }
        FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        for try await chunk in response.body {
            try handle.write(contentsOf: Data(chunk.readableBytesView))
        }
    }

    private func publish<Payload: Codable & Sendable>(_ type: String, _ jobID: String, _ data: Payload) async throws {
        try await events.publish(
            CloudEvent(source: "ecg-reference-worker/\(workerID)", type: type, subject: jobID, data: data),
            topic: topics.analysisEvents
        )
    }
}

extension JobFailed.Failure: Error {}
