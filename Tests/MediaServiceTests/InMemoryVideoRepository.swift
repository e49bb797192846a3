import ECGEvents
import ECGPlatform
import Foundation
import Synchronization

@testable import MediaService

/// Video records in memory, for unit tests of the routes; keeps the events it would have put in the outbox.
final class InMemoryVideoRepository: VideoRepository {
    private struct State {
        var videos: [String: Video] = [:]
        var events: [CloudEvent<VideoUploaded>] = []
        var deleted: [CloudEvent<VideoDeleted>] = []
    }

    private let state = Mutex(State())

    /// The `video.uploaded` events announced so far, oldest first.
    var events: [CloudEvent<VideoUploaded>] { state.withLock { $0.events } }

    /// The `video.deleted` events announced so far, oldest first.
    var deletedEvents: [CloudEvent<VideoDeleted>] { state.withLock { $0.deleted } }

    func create(_ video: Video) async throws {
        state.withLock { $0.videos[video.fileKey] = video }
    }

    func create(_ video: Video, quotaBytes: Int64) async throws -> Bool {
        state.withLock { state in
            let used = state.videos.values.filter { $0.ownerID == video.ownerID }.reduce(Int64(0)) {
                $0 + ($1.sizeBytes ?? $1.declaredSizeBytes ?? 0)
            }
            guard used + (video.declaredSizeBytes ?? 0) <= quotaBytes else { return false }
            state.videos[video.fileKey] = video
            return true
        }
    }

    func find(fileKey: String) async throws -> Video? {
        state.withLock { $0.videos[fileKey] }
    }

    func list(ownerID: Int64, page: PageRequest) async throws -> [Video] {
        state.withLock { state in
            Array(
                state.videos.values.filter { $0.ownerID == ownerID }
                    .filter { video in
                        guard let after = page.after else { return true }
                        let cursor = PageCursor(createdAt: video.createdAt, id: video.fileKey)
                        return (cursor.createdAtMicroseconds, cursor.id) < (after.createdAtMicroseconds, after.id)
                    }
                    .sorted { ($0.createdAt, $0.fileKey) > ($1.createdAt, $1.fileKey) }
                    .prefix(page.limit + 1)
            )
        }
    }

    func delete(fileKey: String, ownerID: Int64) async throws -> Video? {
        state.withLock { state in
            guard let video = state.videos[fileKey], video.ownerID == ownerID else { return nil }
            state.videos[fileKey] = nil
            state.deleted.append(video.deletedEvent(source: "media-service"))
            return video
        }
    }

    func markUploaded(fileKey: String, sizeBytes: Int64, eTag: String?) async throws -> (video: Video, changed: Bool)? {
        state.withLock { state in
            guard var video = state.videos[fileKey] else { return nil }
            guard video.status == .pending else { return (video, false) }
            video.status = .uploaded
            video.sizeBytes = sizeBytes
            video.eTag = eTag
            video.uploadedAt = Date()
            state.videos[fileKey] = video
            state.events.append(video.uploadedEvent(source: "media-service"))
            return (video, true)
        }
    }
}
