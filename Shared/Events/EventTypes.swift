import Foundation

/// The event types of SPEC.md §5.
public enum EventType {
    public static let videoUploaded = "ecg.media.video.uploaded.v1"
    public static let jobRequested = "ecg.analysis.job.requested.v1"
    public static let jobStarted = "ecg.analysis.job.started.v1"
    public static let jobProgress = "ecg.analysis.job.progress.v1"
    public static let jobCompleted = "ecg.analysis.job.completed.v1"
    public static let jobFailed = "ecg.analysis.job.failed.v1"
}

/// The Kafka headers every event carries.
public enum EventHeader {
    public static let id = "ce_id"
    public static let type = "ce_type"
    public static let traceparent = "traceparent"
    /// Set on messages in a `.dlq` topic: why the consumer gave up on them.
    public static let error = "error"
}

/// The topics of SPEC.md §5 with their environment overrides.
public struct Topics: Sendable, Equatable {
    public var mediaEvents: String
    public var analysisRequests: String
    public var analysisEvents: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        func value(_ name: String, _ fallback: String) -> String {
            guard let value = environment[name], !value.isEmpty else { return fallback }
            return value
        }
        self.mediaEvents = value("TOPIC_MEDIA_EVENTS", "ecg.media.events")
        self.analysisRequests = value("TOPIC_ANALYSIS_REQUESTS", "ecg.analysis.requests")
        self.analysisEvents = value("TOPIC_ANALYSIS_EVENTS", "ecg.analysis.events")
    }

    /// Where a consumer of `topic` parks what it cannot process.
    public static func deadLetter(for topic: String) -> String { topic + ".dlq" }
}

/// Consumer groups of SPEC.md §5.
public enum ConsumerGroup {
    public static let analysisService = "analysis-service"
    public static let mlWorkers = "ecg-ml-workers"
}

// MARK: - Data shapes

/// `ecg.media.video.uploaded.v1`
public struct VideoUploaded: Codable, Sendable, Equatable {
    public var file_key: String
    public var owner_id: String
    public var content_type: String
    public var size_bytes: Int64

    public init(file_key: String, owner_id: String, content_type: String, size_bytes: Int64) {
        self.file_key = file_key
        self.owner_id = owner_id
        self.content_type = content_type
        self.size_bytes = size_bytes
    }
}

/// `ecg.analysis.job.requested.v1`
public struct JobRequested: Codable, Sendable, Equatable {
    public var job_id: String
    public var user_id: String
    public var video_file_key: String
    public var analysis_type: String
    public var video_url: String
    public var video_url_expires_at: Date
    public var requested_at: Date

    public init(
        job_id: String,
        user_id: String,
        video_file_key: String,
        analysis_type: String,
        video_url: String,
        video_url_expires_at: Date,
        requested_at: Date
    ) {
        self.job_id = job_id
        self.user_id = user_id
        self.video_file_key = video_file_key
        self.analysis_type = analysis_type
        self.video_url = video_url
        self.video_url_expires_at = video_url_expires_at
        self.requested_at = requested_at
    }
}

/// `ecg.analysis.job.started.v1`
public struct JobStarted: Codable, Sendable, Equatable {
    public var job_id: String
    public var worker_id: String

    public init(job_id: String, worker_id: String) {
        self.job_id = job_id
        self.worker_id = worker_id
    }
}

/// `ecg.analysis.job.progress.v1`
public struct JobProgress: Codable, Sendable, Equatable {
    public var job_id: String
    public var progress: Int
    public var stage: String

    public init(job_id: String, progress: Int, stage: String) {
        self.job_id = job_id
        self.progress = progress
        self.stage = stage
    }
}

/// `ecg.analysis.job.completed.v1`
public struct JobCompleted: Codable, Sendable, Equatable {
    public var job_id: String
    public var result: AnalysisResult

    public init(job_id: String, result: AnalysisResult) {
        self.job_id = job_id
        self.result = result
    }
}

/// `ecg.analysis.job.failed.v1`
public struct JobFailed: Codable, Sendable, Equatable {
    public struct Failure: Codable, Sendable, Equatable {
        public var code: String
        public var message: String

        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    public var job_id: String
    public var error: Failure
    public var retryable: Bool

    public init(job_id: String, error: Failure, retryable: Bool) {
        self.job_id = job_id
        self.error = error
        self.retryable = retryable
    }
}

/// What a completed job carries (SPEC.md §3 row 11).
public struct AnalysisResult: Codable, Sendable, Equatable {
    public struct Caption: Codable, Sendable, Equatable {
        public var start: Double
        public var end: Double
        public var text: String
        public var emotion: String
        public var intensity: Double

        public init(start: Double, end: Double, text: String, emotion: String, intensity: Double) {
            self.start = start
            self.end = end
            self.text = text
            self.emotion = emotion
            self.intensity = intensity
        }
    }

    public struct Emotion: Codable, Sendable, Equatable {
        public var start: Double
        public var end: Double
        public var label: String
        public var score: Double

        public init(start: Double, end: Double, label: String, score: Double) {
            self.start = start
            self.end = end
            self.label = label
            self.score = score
        }
    }

    public var captions: [Caption]
    public var emotions: [Emotion]
    /// Seconds the analysis took.
    public var analysis_time: Double
    /// How the result was derived (the reference worker names its method).
    public var method: String?

    public init(captions: [Caption], emotions: [Emotion], analysis_time: Double, method: String? = nil) {
        self.captions = captions
        self.emotions = emotions
        self.analysis_time = analysis_time
        self.method = method
    }
}
