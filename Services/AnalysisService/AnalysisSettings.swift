import ECGPlatform

/// analysis-service's own settings (SPEC.md §6).
struct AnalysisSettings: Sendable {
    let mediaServiceURL: String
    let jobTimeout: Duration
    let streamHeartbeat: Duration
    /// `MAX_PROCESSING_JOBS_PER_USER` (10) and `MAX_STREAMS_PER_USER` (10, per replica), review L11.
    let maxProcessingJobsPerUser: Int
    let maxStreamsPerUser: Int

    init(settings: EnvironmentSettings) {
        mediaServiceURL = settings.required("MEDIA_SERVICE_URL", developmentDefault: "http://127.0.0.1:8082")
        if !mediaServiceURL.hasPrefix("http://") && !mediaServiceURL.hasPrefix("https://") {
            settings.report("MEDIA_SERVICE_URL must be an http(s) URL (got \(mediaServiceURL))")
        }
        jobTimeout = .seconds(settings.int("JOB_TIMEOUT_SECONDS", default: 1800, range: 1...604_800))
        streamHeartbeat = .seconds(settings.int("SSE_HEARTBEAT_SECONDS", default: 15, range: 1...300))
        maxProcessingJobsPerUser = settings.int("MAX_PROCESSING_JOBS_PER_USER", default: 10, range: 1...10_000)
        maxStreamsPerUser = settings.int("MAX_STREAMS_PER_USER", default: 10, range: 1...10_000)
    }
}
