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

/// The topics of SPEC.md §5. Each name has a `TOPIC_*` variable that overrides it, read once at the
/// process's start (`ServiceConfiguration`) and passed in: nothing here reads the process environment.
package struct Topics: Sendable, Equatable {
    package var authEvents: String
    package var mediaEvents: String
    package var analysisRequests: String
    package var analysisEvents: String

    /// The default names.
    package init() {
        self.init { _, defaultName in defaultName }
    }

    /// Each name as `value(variable, defaultName)` gives it, for every `TOPIC_*` variable in turn.
    package init(_ value: (_ variable: String, _ defaultName: String) -> String) {
        self.authEvents = value("TOPIC_AUTH_EVENTS", "ecg.auth.events")
        self.mediaEvents = value("TOPIC_MEDIA_EVENTS", "ecg.media.events")
        self.analysisRequests = value("TOPIC_ANALYSIS_REQUESTS", "ecg.analysis.requests")
        self.analysisEvents = value("TOPIC_ANALYSIS_EVENTS", "ecg.analysis.events")
    }

    /// The names with the overrides in `environment` (an empty value counts as unset), for tests.
    package init(environment: [String: String]) {
        self.init { variable, defaultName in
            guard let value = environment[variable], !value.isEmpty else { return defaultName }
            return value
        }
    }

    /// The `TOPIC_*` variables, in the order `init(_:)` asks for them.
    package static var variables: [String] {
        var names: [String] = []
        _ = Topics { variable, defaultName in
            names.append(variable)
            return defaultName
        }
        return names
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
