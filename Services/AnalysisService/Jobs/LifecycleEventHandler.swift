import ECGEvents
import ECGMessaging
import ECGPlatform
import Foundation
import Logging
import PostgresNIO

/// analysis-service's part of what users delete, inside the idempotent consumer's transaction:
/// - `ecg.media.video.deleted.v1`: the video's jobs are deleted (their job-status answers 404);
/// - `ecg.auth.user.deleted.v1`: all the user's jobs are deleted and the user joins `deleted_users`,
///   so their remaining access tokens are refused at once.
/// Jobs still running are cancelled for their workers (`job.cancelled` on the requests topic) before
/// they go (`AnalysisJobs.deleteJobs`). Other events on these topics are not ours and pass. A
/// redelivered event finds nothing left.
enum LifecycleEventHandler {
    static func handler(
        jobs: AnalysisJobs,
        repository: PostgresJobRepository,
        deletedUsers: DeletedUsers,
        logger: Logger
    ) -> IdempotentEventProcessor.Handler {
        { event, connection in
            let transaction = repository.transaction(on: connection)
            let deleted: [Job]
            switch event.header.type {
            case EventType.videoDeleted:
                let data = try event.decode(VideoDeleted.self).data
                deleted = try await jobs.deleteJobs(userID: data.ownerID, videoFileKey: data.fileKey, in: transaction)
            case EventType.userDeleted:
                let data = try event.decode(UserDeleted.self).data
                deleted = try await jobs.deleteJobs(userID: data.userID, videoFileKey: nil, in: transaction)
                try await DeletedUsers.record(data.userID, deletedAt: data.deletedAt, on: connection, logger: logger)
                deletedUsers.insert(data.userID)
            default:
                return
            }
            if !deleted.isEmpty {
                logger.notice("deleted jobs", metadata: ["event": "\(event.header.type)", "jobs": "\(deleted.count)"])
            }
        }
    }
}
