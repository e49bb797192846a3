import ECGEvents
import ECGPlatform
import Foundation

/// Where video records live: PostgreSQL in the service, memory in the route tests. SQL only; the
/// changes that announce an event (upload confirmed, deletion) run in `transaction` through `VideoRecords`.
protocol VideoRepository: Sendable {
    /// Creates the record unless the owner's stored and pending bytes (`size_bytes`, else
    /// `declared_size_bytes`) plus this video's declared size would exceed `quotaBytes`; atomic per
    /// owner, so concurrent requests cannot overshoot. Returns false (and creates nothing) when over.
    /// The only way to create a record: it keeps the owner's usage (`media.storage_usage`) in step.
    func create(_ video: Video, quotaBytes: Int64) async throws -> Bool
    func find(fileKey: VideoKey) async throws -> Video?
    /// The owner's videos, newest first, after `page.after`: at most `page.limit + 1` (one more than a
    /// page, so the caller knows whether another page follows).
    func list(ownerID: UserID, page: PageRequest) async throws -> [Video]
    /// Runs `body` in one transaction: its changes and events commit together or not at all.
    func transaction<Result: Sendable>(_ body: @Sendable (any VideoTransaction) async throws -> Result) async throws -> Result
}

/// The statements a use case runs inside one transaction.
protocol VideoTransaction: Sendable {
    func find(fileKey: VideoKey) async throws -> Video?
    /// Moves a `pending` video to `uploaded` with its size and ETag under a row lock; nil when the
    /// video is unknown or no longer pending (a racing caller changed it first).
    func markUploaded(fileKey: VideoKey, sizeBytes: Int64, eTag: String?) async throws -> Video?
    /// Deletes the owner's video; nil when the owner has no such video.
    func delete(fileKey: VideoKey, ownerID: UserID) async throws -> Video?
    /// Deletes every video of the owner; returns them as they were.
    func deleteAll(ownerID: UserID) async throws -> [Video]
    /// Adds `event` to the outbox, published to `topic` once the transaction commits.
    func publish<Payload: Codable & Sendable>(_ event: CloudEvent<Payload>, topic: String) async throws
}

extension Video {
    /// `ecg.media.video.deleted.v1` for this video.
    func deletedEvent(source: String) -> CloudEvent<VideoDeleted> {
        CloudEvent(source: source, type: EventType.videoDeleted, subject: fileKey.rawValue, data: VideoDeleted(fileKey: fileKey, ownerID: ownerID))
    }

    /// `ecg.media.video.uploaded.v1` for this video.
    func uploadedEvent(source: String) -> CloudEvent<VideoUploaded> {
        CloudEvent(
            source: source,
            type: EventType.videoUploaded,
            subject: fileKey.rawValue,
            data: VideoUploaded(fileKey: fileKey, ownerID: ownerID, contentType: contentType, sizeBytes: sizeBytes ?? 0)
        )
    }
}
