import Foundation

/// The event types of SPEC.md §5.
package enum EventType {
    package static let videoUploaded = "ecg.media.video.uploaded.v1"
    package static let videoDeleted = "ecg.media.video.deleted.v1"
    package static let userDeleted = "ecg.auth.user.deleted.v1"
    /// On the requests topic, keyed by job id like the request it follows: workers stop work on it.
    package static let jobCancelled = "ecg.analysis.job.cancelled.v1"
    package static let jobRequested = "ecg.analysis.job.requested.v1"
    package static let jobStarted = "ecg.analysis.job.started.v1"
    package static let jobProgress = "ecg.analysis.job.progress.v1"
    package static let jobCompleted = "ecg.analysis.job.completed.v1"
    package static let jobFailed = "ecg.analysis.job.failed.v1"
}

/// The Kafka headers every event carries.
package enum EventHeader {
    package static let id = "ce_id"
    package static let type = "ce_type"
    package static let traceparent = "traceparent"
    /// Set on messages in a `.dlq` topic: why the consumer gave up on them.
    package static let error = "error"
}

/// The topics of SPEC.md §5 with their environment overrides.
package struct Topics: Sendable, Equatable {
    package var authEvents: String
    package var mediaEvents: String
    package var analysisRequests: String
    package var analysisEvents: String

    package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        func value(_ name: String, _ fallback: String) -> String {
            guard let value = environment[name], !value.isEmpty else { return fallback }
            return value
        }
        self.authEvents = value("TOPIC_AUTH_EVENTS", "ecg.auth.events")
        self.mediaEvents = value("TOPIC_MEDIA_EVENTS", "ecg.media.events")
        self.analysisRequests = value("TOPIC_ANALYSIS_REQUESTS", "ecg.analysis.requests")
        self.analysisEvents = value("TOPIC_ANALYSIS_EVENTS", "ecg.analysis.events")
    }

    /// Where a consumer of `topic` parks what it cannot process.
    package static func deadLetter(for topic: String) -> String { topic + ".dlq" }
}

/// Consumer groups of SPEC.md §5.
package enum ConsumerGroup {
    package static let analysisService = "analysis-service"
    /// analysis-service's consumer of `ecg.media.events` and `ecg.auth.events`.
    package static let analysisServiceLifecycle = "analysis-service-lifecycle"
    /// media-service's consumer of `ecg.auth.events`.
    package static let mediaService = "media-service"
    package static let mlWorkers = "ecg-ml-workers"
}

// MARK: - Data shapes

/// `ecg.media.video.uploaded.v1`
package struct VideoUploaded: Codable, Sendable, Equatable {
    package var file_key: String
    package var owner_id: String
    package var content_type: String
    package var size_bytes: Int64

    package init(file_key: String, owner_id: String, content_type: String, size_bytes: Int64) {
        self.file_key = file_key
        self.owner_id = owner_id
        self.content_type = content_type
        self.size_bytes = size_bytes
    }
}

/// `ecg.media.video.deleted.v1`, keyed by file key: the video and its object are gone.
package struct VideoDeleted: Codable, Sendable, Equatable {
    package var file_key: String
    package var owner_id: String

    package init(file_key: String, owner_id: String) {
        self.file_key = file_key
        self.owner_id = owner_id
    }
}

/// `ecg.auth.user.deleted.v1` on `ecg.auth.events`, keyed by user id: every service deletes the
/// user's data and refuses the user's access tokens issued before `deleted_at`.
package struct UserDeleted: Codable, Sendable, Equatable {
    package var user_id: String
    package var deleted_at: Date

    package init(user_id: String, deleted_at: Date) {
        self.user_id = user_id
        self.deleted_at = deleted_at
    }
}

/// `ecg.analysis.job.cancelled.v1` on `ecg.analysis.requests`, keyed by job id.
package struct JobCancelled: Codable, Sendable, Equatable {
    package var job_id: String

    package init(job_id: String) {
        self.job_id = job_id
    }
}

/// `ecg.analysis.job.requested.v1`
package struct JobRequested: Codable, Sendable, Equatable {
    package var job_id: String
    package var user_id: String
    package var video_file_key: String
    package var analysis_type: String
    package var video_url: String
    package var video_url_expires_at: Date
    package var requested_at: Date
    /// The spoken language the client asked for (BCP 47, e.g. `en`); absent means English.
    package var language: String?

    package init(
        job_id: String,
        user_id: String,
        video_file_key: String,
        analysis_type: String,
        video_url: String,
        video_url_expires_at: Date,
        requested_at: Date,
        language: String? = nil
    ) {
        self.job_id = job_id
        self.user_id = user_id
        self.video_file_key = video_file_key
        self.analysis_type = analysis_type
        self.video_url = video_url
        self.video_url_expires_at = video_url_expires_at
        self.requested_at = requested_at
        self.language = language
    }
}

/// `ecg.analysis.job.started.v1`
package struct JobStarted: Codable, Sendable, Equatable {
    package var job_id: String
    package var worker_id: String

    package init(job_id: String, worker_id: String) {
        self.job_id = job_id
        self.worker_id = worker_id
    }
}

/// `ecg.analysis.job.progress.v1`
package struct JobProgress: Codable, Sendable, Equatable {
    package var job_id: String
    package var progress: Int
    package var stage: String

    package init(job_id: String, progress: Int, stage: String) {
        self.job_id = job_id
        self.progress = progress
        self.stage = stage
    }
}

/// `ecg.analysis.job.completed.v1`
package struct JobCompleted: Codable, Sendable, Equatable {
    package var job_id: String
    package var result: AnalysisResult

    package init(job_id: String, result: AnalysisResult) {
        self.job_id = job_id
        self.result = result
    }
}

/// `ecg.analysis.job.failed.v1`
package struct JobFailed: Codable, Sendable, Equatable {
    package struct Failure: Codable, Sendable, Equatable {
        package var code: String
        package var message: String

        package init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    package var job_id: String
    package var error: Failure
    package var retryable: Bool

    package init(job_id: String, error: Failure, retryable: Bool) {
        self.job_id = job_id
        self.error = error
        self.retryable = retryable
    }
}

/// What a completed job carries (SPEC.md §3 row 11). The seed's fields are checked; anything else a
/// worker adds (`method`, `processing_seconds`, a caption's `words`, or fields of a future worker) is
/// kept as it came and passed through to clients.
package struct AnalysisResult: Codable, Sendable, Equatable {
    package struct Caption: Codable, Sendable, Equatable {
        package var start: Double
        package var end: Double
        package var text: String
        package var emotion: String
        package var intensity: Double
        /// Fields beyond the seed's, e.g. `words`.
        package var extra: [String: JSONValue]

        package init(start: Double, end: Double, text: String, emotion: String, intensity: Double, extra: [String: JSONValue] = [:]) {
            self.start = start
            self.end = end
            self.text = text
            self.emotion = emotion
            self.intensity = intensity
            self.extra = extra
        }

        private enum CodingKeys: String, CodingKey, CaseIterable { case start, end, text, emotion, intensity }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            start = try container.decode(Double.self, forKey: .start)
            end = try container.decode(Double.self, forKey: .end)
            text = try container.decode(String.self, forKey: .text)
            emotion = try container.decode(String.self, forKey: .emotion)
            intensity = try container.decode(Double.self, forKey: .intensity)
            extra = try JSONValue.extraFields(in: decoder, known: CodingKeys.allCases.map(\.rawValue))
        }

        package func encode(to encoder: any Encoder) throws {
            try JSONValue.encode(extra, to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(start, forKey: .start)
            try container.encode(end, forKey: .end)
            try container.encode(text, forKey: .text)
            try container.encode(emotion, forKey: .emotion)
            try container.encode(intensity, forKey: .intensity)
        }
    }

    package struct Emotion: Codable, Sendable, Equatable {
        package var start: Double
        package var end: Double
        package var label: String
        package var score: Double
        package var extra: [String: JSONValue]

        package init(start: Double, end: Double, label: String, score: Double, extra: [String: JSONValue] = [:]) {
            self.start = start
            self.end = end
            self.label = label
            self.score = score
            self.extra = extra
        }

        private enum CodingKeys: String, CodingKey, CaseIterable { case start, end, label, score }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            start = try container.decode(Double.self, forKey: .start)
            end = try container.decode(Double.self, forKey: .end)
            label = try container.decode(String.self, forKey: .label)
            score = try container.decode(Double.self, forKey: .score)
            extra = try JSONValue.extraFields(in: decoder, known: CodingKeys.allCases.map(\.rawValue))
        }

        package func encode(to encoder: any Encoder) throws {
            try JSONValue.encode(extra, to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(start, forKey: .start)
            try container.encode(end, forKey: .end)
            try container.encode(label, forKey: .label)
            try container.encode(score, forKey: .score)
        }
    }

    package var captions: [Caption]
    package var emotions: [Emotion]
    /// When the analysis finished: an ISO-8601 UTC timestamp in the seed (`"2025-09-09T12:30:00Z"`).
    /// Kept as the worker sent it (workers before this contract sent seconds as a number).
    package var analysisTime: JSONValue
    /// Fields beyond the seed's: `method`, `processing_seconds`, …
    package var extra: [String: JSONValue]

    package init(captions: [Caption], emotions: [Emotion], analysisTime: JSONValue, extra: [String: JSONValue] = [:]) {
        self.captions = captions
        self.emotions = emotions
        self.analysisTime = analysisTime
        self.extra = extra
    }

    /// How the result was derived, when the worker said.
    package var method: String? {
        if case .string(let method) = extra["method"] { return method }
        return nil
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case captions, emotions
        case analysisTime = "analysis_time"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        captions = try container.decode([Caption].self, forKey: .captions)
        emotions = try container.decode([Emotion].self, forKey: .emotions)
        analysisTime = try container.decode(JSONValue.self, forKey: .analysisTime)
        switch analysisTime {
        case .string, .number: break
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .analysisTime,
                in: container,
                debugDescription: "analysis_time must be an ISO-8601 timestamp (or, from older workers, seconds)"
            )
        }
        extra = try JSONValue.extraFields(in: decoder, known: CodingKeys.allCases.map(\.rawValue))
    }

    package func encode(to encoder: any Encoder) throws {
        try JSONValue.encode(extra, to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(captions, forKey: .captions)
        try container.encode(emotions, forKey: .emotions)
        try container.encode(analysisTime, forKey: .analysisTime)
    }
}
