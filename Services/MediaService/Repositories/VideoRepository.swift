import ECGEvents
import ECGPlatform
import Foundation

/// Where video records live.
protocol VideoRepository: Sendable {
    func create(_ video: Video) async throws
    /// Creates the record unless the owner's stored and pending bytes (`size_bytes`, else
    /// `declared_size_bytes`) plus this video's declared size would exceed `quotaBytes`; atomic per
    /// owner, so concurrent requests cannot overshoot. Returns false (and creates nothing) when over.
    func create(_ video: Video, quotaBytes: Int64) async throws -> Bool
    func find(fileKey: String) async throws -> Video?
    /// The owner's videos, newest first, after `page.after`: at most `page.limit + 1` (one more than a
    /// page, so the caller knows whether another page follows).
    func list(ownerID: Int64, page: PageRequest) async throws -> [Video]
    /// Deletes the owner's video record and, in the same transaction, adds `video.deleted` to the
    /// outbox. Returns the deleted video, or nil when the owner has no such video.
    func delete(fileKey: String, ownerID: Int64) async throws -> Video?
    /// Moves a `pending` video to `uploaded` with its size, and in the same transaction adds the
    /// `video.uploaded` event to the outbox. Only the call that makes the change adds the event, so it
    /// is announced once however many callers race. Returns the video as it is afterwards (nil when
    /// unknown) and whether this call changed it.
    func markUploaded(fileKey: String, sizeBytes: Int64, eTag: String?) async throws -> (video: Video, changed: Bool)?
}

extension Video {
    /// `ecg.media.video.deleted.v1` for this video.
    func deletedEvent(source: String) -> CloudEvent<VideoDeleted> {
        CloudEvent(source: source, type: EventType.videoDeleted, subject: fileKey, data: VideoDeleted(file_key: fileKey, owner_id: String(ownerID)))
    }

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
