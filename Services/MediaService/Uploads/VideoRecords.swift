import ECGEvents
import Foundation

/// The use cases that change a video record and announce it, each in one transaction with its event
/// (through the outbox): an upload confirmed (`video.uploaded`), a video deleted and a user's videos
/// deleted (`video.deleted` each). The repository only runs the statements.
struct VideoRecords: Sendable {
    let repository: any VideoRepository
    /// `ecg.media.events` (or its `TOPIC_MEDIA_EVENTS` override).
    let topic: String
    let source: String

    /// Moves a `pending` video to `uploaded` and announces it. Only the call that makes the change
    /// announces it, so it is announced once however many callers race. Returns the video as it is
    /// afterwards (nil when unknown) and whether this call changed it.
    func markUploaded(fileKey: VideoKey, sizeBytes: Int64, eTag: String?) async throws -> (video: Video, changed: Bool)? {
        let (topic, source) = (self.topic, self.source)
        return try await repository.transaction { transaction -> (video: Video, changed: Bool)? in
            if let uploaded = try await transaction.markUploaded(fileKey: fileKey, sizeBytes: sizeBytes, eTag: eTag) {
                try await transaction.publish(uploaded.uploadedEvent(source: source), topic: topic)
                return (uploaded, true)
            }
            return try await transaction.find(fileKey: fileKey).map { ($0, false) }
        }
    }

    /// Deletes the owner's video record and announces it; nil when the owner has no such video.
    func delete(fileKey: VideoKey, ownerID: UserID) async throws -> Video? {
        let (topic, source) = (self.topic, self.source)
        return try await repository.transaction { transaction -> Video? in
            guard let video = try await transaction.delete(fileKey: fileKey, ownerID: ownerID) else { return nil }
            try await transaction.publish(video.deletedEvent(source: source), topic: topic)
            return video
        }
    }

    /// Deletes every video record of a user inside `transaction` (the consumer's), announcing each;
    /// returns their file keys (whose objects the caller deletes).
    func deleteAll(ownerID: UserID, in transaction: any VideoTransaction) async throws -> [VideoKey] {
        var keys: [VideoKey] = []
        for video in try await transaction.deleteAll(ownerID: ownerID) {
            try await transaction.publish(video.deletedEvent(source: source), topic: topic)
            keys.append(video.fileKey)
        }
        return keys
    }
}
