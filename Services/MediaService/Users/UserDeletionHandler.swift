import ECGEvents
import ECGMessaging
import ECGPlatform
import Foundation
import Logging
import PostgresNIO

/// media-service's part of deleting an account (`ecg.auth.user.deleted.v1`): inside the idempotent
/// consumer's transaction, every video record of the user goes (each announced with `video.deleted`),
/// its S3 object is deleted, and the user joins `deleted_users` so their remaining access tokens are
/// refused at once. An S3 failure rolls the transaction back and the event is retried; a redelivered
/// event finds nothing left to do.
enum UserDeletionHandler {
    static func handler(
        records: VideoRecords,
        repository: PostgresVideoRepository,
        storage: any VideoStorage,
        deletedUsers: DeletedUsers,
        logger: Logger
    )
        -> IdempotentEventProcessor.Handler
    {
        { event, connection in
            guard event.header.type == EventType.userDeleted else { return }  // other auth events are not ours
            let data = try event.decode(UserDeleted.self).data
            let keys = try await records.deleteAll(ownerID: data.userID, in: repository.transaction(on: connection))
            for key in keys {
                do {
                    try await storage.delete(key: key)
                } catch {
                    throw RetryLater("S3 did not delete \(key): \(error)")
                }
            }
            try await DeletedUsers.record(data.userID, deletedAt: data.deletedAt, on: connection, logger: logger)
            deletedUsers.insert(data.userID)
            logger.notice("deleted a user's videos", metadata: ["user_id": "\(data.userID)", "videos": "\(keys.count)"])
        }
    }
}
