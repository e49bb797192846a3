/// Why a change to a job was refused; mapped to HTTP once, by `APIErrorConvertible`.
enum JobError: Error, Equatable {
    /// No such job of the caller's.
    case notFound
    /// The job is completed or failed: nothing can cancel it.
    case finished
    /// Only a failed job whose failure was retryable can be retried.
    case notRetryable(status: JobState.Status, failureCode: String?)
    /// A concurrent request with the same Idempotency-Key has not committed yet.
    case idempotencyConflict
    /// The Idempotency-Key was first used with another request (review L12).
    case idempotencyKeyReused
    /// The user already has this many jobs in processing (review L11).
    case tooManyJobs(limit: Int)
    /// The video is not the caller's, or unknown to media-service.
    case videoNotFound
    /// The video's upload has not been completed.
    case videoNotUploaded
}
