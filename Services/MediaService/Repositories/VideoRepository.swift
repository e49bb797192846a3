import ECGEvents
import Foundation

/// Where video records live.
protocol VideoRepository: Sendable {
    func create(_ video: Video) async throws
    func find(fileKey: String) async throws -> Video?
    /// The owner's videos, newest first.
    func list(ownerID: Int64, limit: Int) async throws -> [Video]
    /// Moves a `pending` video to `uploaded` with its size, and in the same transaction adds the
    /// `video.uploaded` event to the outbox. Only the call that makes the change adds the event, so it
    /// is announced once however many callers race. Returns the video as it is afterwards (nil when
    /// unknown) and whether this call changed it.
    func markUploaded(fileKey: String, sizeBytes: Int64) async throws -> (video: Video, changed: Bool)?
}

extension Video {
    /// `ecg.media.video.uploaded.v1` for this video.
    func uploadedEvent(source: String) -> CloudEvent<VideoUploaded> {
        CloudEvent(
            source: source,
            type: EventType.videoUploaded,
            subject: fileKey,
            data: VideoUploaded(file_key: fileKey, owner_id: String(ownerID), content_type: contentType, size_bytes: sizeBytes ?? 0)
        )
    }
}
