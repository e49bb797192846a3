import ECGEvents
/// What analysis-service asks media-service about a video: `MediaClient` in the service, a fake in
/// the route tests.
protocol VideoLookup: Sendable {
    /// The video, or nil when media-service does not know it. Throws an `APIError` (503, or 409
    /// `video_changed`) when media-service cannot vouch for it.
    func video(fileKey: VideoKey) async throws -> VideoInfo?
}

extension MediaClient: VideoLookup {}
