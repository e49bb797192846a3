import Foundation

/// `ecg.analysis.job.cancelled.v1` on `ecg.analysis.requests`, keyed by job id.
package struct JobCancelled: Codable, Sendable, Equatable {
    package var jobID: JobID

    package init(jobID: JobID) {
        self.jobID = jobID
    }

    private enum CodingKeys: String, CodingKey {
        case jobID = "job_id"
    }
}

/// `ecg.analysis.job.requested.v1`
package struct JobRequested: Codable, Sendable, Equatable {
    package var jobID: JobID
    package var userID: UserID
    package var videoFileKey: VideoKey
    /// One of analysis-service's analysis types; a worker that does not know it fails the job.
    package var analysisType: String
    package var videoURL: String
    package var videoURLExpiresAt: Date
    package var requestedAt: Date
    /// The spoken language the client asked for (BCP 47, e.g. `en`); absent means English.
    package var language: String?

    package init(
        jobID: JobID,
        userID: UserID,
        videoFileKey: VideoKey,
        analysisType: String,
        videoURL: String,
        videoURLExpiresAt: Date,
        requestedAt: Date,
        language: String? = nil
    ) {
        self.jobID = jobID
        self.userID = userID
        self.videoFileKey = videoFileKey
        self.analysisType = analysisType
        self.videoURL = videoURL
        self.videoURLExpiresAt = videoURLExpiresAt
        self.requestedAt = requestedAt
        self.language = language
    }

    private enum CodingKeys: String, CodingKey {
        case jobID = "job_id"
        case userID = "user_id"
        case videoFileKey = "video_file_key"
        case analysisType = "analysis_type"
        case videoURL = "video_url"
        case videoURLExpiresAt = "video_url_expires_at"
        case requestedAt = "requested_at"
        case language
    }
}

/// `ecg.analysis.job.started.v1`
package struct JobStarted: Codable, Sendable, Equatable {
    package var jobID: JobID
    package var workerID: String

    package init(jobID: JobID, workerID: String) {
        self.jobID = jobID
        self.workerID = workerID
    }

    private enum CodingKeys: String, CodingKey {
        case jobID = "job_id"
        case workerID = "worker_id"
    }
}

/// `ecg.analysis.job.progress.v1`
package struct JobProgress: Codable, Sendable, Equatable {
    package var jobID: JobID
    package var progress: Int
    package var stage: String

    package init(jobID: JobID, progress: Int, stage: String) {
        self.jobID = jobID
        self.progress = progress
        self.stage = stage
    }

    private enum CodingKeys: String, CodingKey {
        case jobID = "job_id"
        case progress, stage
    }
}

/// `ecg.analysis.job.completed.v1`
package struct JobCompleted: Codable, Sendable, Equatable {
    package var jobID: JobID
    package var result: AnalysisResult

    package init(jobID: JobID, result: AnalysisResult) {
        self.jobID = jobID
        self.result = result
    }

    private enum CodingKeys: String, CodingKey {
        case jobID = "job_id"
        case result
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

    package var jobID: JobID
    package var error: Failure
    package var retryable: Bool

    package init(jobID: JobID, error: Failure, retryable: Bool) {
        self.jobID = jobID
        self.error = error
        self.retryable = retryable
    }

    private enum CodingKeys: String, CodingKey {
        case jobID = "job_id"
        case error, retryable
    }
}
