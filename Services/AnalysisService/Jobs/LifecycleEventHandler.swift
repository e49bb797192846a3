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
/// they go. Other events on these topics are not ours and pass. A redelivered event finds nothing left.
enum LifecycleEventHandler {
    static func handler(outbox: Outbox, requestsTopic: String, deletedUsers: DeletedUsers, logger: Logger) -> IdempotentEventProcessor.Handler {
        { event, connection in
            let deleted: [Job]
            switch event.header.type {
            case EventType.videoDeleted:
                let data = try event.decode(VideoDeleted.self).data
                deleted = try await JobRepository.delete(userID: data.owner_id, videoFileKey: data.file_key, on: connection, logger: logger)
            case EventType.userDeleted:
                let data = try event.decode(UserDeleted.self).data
                deleted = try await JobRepository.delete(userID: data.user_id, videoFileKey: nil, on: connection, logger: logger)
                try await DeletedUsers.record(data.user_id, deletedAt: data.deleted_at, on: connection, logger: logger)
                deletedUsers.insert(data.user_id)
            default:
                return
            }
            for job in deleted where !job.state.isTerminal {
                let id = job.id.uuidString.lowercased()
                let cancelled = CloudEvent(source: "analysis-service", type: EventType.jobCancelled, subject: id, data: JobCancelled(job_id: id))
                try await outbox.add(cancelled, topic: requestsTopic, on: connection, logger: logger)
            }
            if !deleted.isEmpty {
                logger.notice("deleted jobs", metadata: ["event": "\(event.header.type)", "jobs": "\(deleted.count)"])
            }
        }
    }
}
