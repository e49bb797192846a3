import Foundation

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
