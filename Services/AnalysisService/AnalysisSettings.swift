import ECGPlatform

/// analysis-service's own settings (SPEC.md §6).
struct AnalysisSettings: Sendable {
    let mediaServiceURL: String
    let jobTimeout: Duration
    let streamHeartbeat: Duration

    init(settings: EnvironmentSettings) {
        mediaServiceURL = settings.required("MEDIA_SERVICE_URL", developmentDefault: "http://127.0.0.1:8082")
        if !mediaServiceURL.hasPrefix("http://") && !mediaServiceURL.hasPrefix("https://") {
            settings.report("MEDIA_SERVICE_URL must be an http(s) URL (got \(mediaServiceURL))")
        }
        jobTimeout = .seconds(settings.int("JOB_TIMEOUT_SECONDS", default: 1800, range: 1...604_800))
        streamHeartbeat = .seconds(settings.int("SSE_HEARTBEAT_SECONDS", default: 15, range: 1...300))
    }
}
