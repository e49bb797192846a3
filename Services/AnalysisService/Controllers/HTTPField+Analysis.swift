import HTTPTypes

extension HTTPField.Name {
    /// A client's key for repeating `process-video` without creating a second job.
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    /// Tells nginx not to buffer the job-status stream.
    static let accelBuffering = HTTPField.Name("X-Accel-Buffering")!
}
