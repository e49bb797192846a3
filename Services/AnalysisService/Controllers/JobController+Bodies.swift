import ECGEvents
/// The request and response bodies of the job routes: camelCase in Swift, SPEC's snake_case on the
/// wire (each type's `CodingKeys`); `WireFormatTests` pins the bytes.
extension JobController {
    struct ProcessVideoRequest: Decodable {
        let videoFileKey: String
        /// Text, not `AnalysisType`, so that an unknown value is a 422 naming the field.
        let analysisType: String
        /// The spoken language (BCP 47), passed to the worker; absent means English.
        let language: String?

        enum CodingKeys: String, CodingKey {
            case videoFileKey = "video_file_key"
            case analysisType = "analysis_type"
            case language
        }
    }

    /// process-video's and retry's 202.
    struct Accepted: Codable, Sendable {
        let jobID: JobID
        let status: JobState.Status
        let message: String

        init(_ job: Job) {
            jobID = job.id
            status = job.state.status
            message = JobController.acceptedMessage
        }

        enum CodingKeys: String, CodingKey {
            case jobID = "job_id"
            case status, message
        }
    }

    struct JobList: Codable, Sendable {
        let items: [JobResponse]
        let nextCursor: String?

        enum CodingKeys: String, CodingKey {
            case items
            case nextCursor = "next_cursor"
        }

        /// `next_cursor` is written as null on the last page.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(items, forKey: .items)
            try container.encode(nextCursor, forKey: .nextCursor)
        }
    }
}
