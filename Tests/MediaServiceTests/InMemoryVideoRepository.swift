import ECGEvents
import ECGPlatform
import Foundation
import Synchronization
import TestSupport

@testable import MediaService

/// Video records in memory, for the route tests; transactions commit or roll back as a whole, one at
/// a time, and keep the events the outbox would have published.
final class InMemoryVideoRepository: VideoRepository {
    struct State: Sendable {
        var videos: [VideoKey: Video] = [:]
        var events: [CloudEvent<VideoUploaded>] = []
        var deleted: [CloudEvent<VideoDeleted>] = []
    }

    private let state = Mutex(State())
    private let turn = TransactionTurn()

    /// The `video.uploaded` events announced so far, oldest first.
    var events: [CloudEvent<VideoUploaded>] { state.withLock { $0.events } }

    /// The `video.deleted` events announced so far, oldest first.
    var deletedEvents: [CloudEvent<VideoDeleted>] { state.withLock { $0.deleted } }

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

    func find(fileKey: VideoKey) async throws -> Video? {
        state.withLock { $0.videos[fileKey] }
    }

    func list(ownerID: UserID, page: PageRequest) async throws -> [Video] {
        state.withLock { state in
            Array(
                state.videos.values.filter { $0.ownerID == ownerID }
                    .filter { video in
                        guard let after = page.after else { return true }
                        let cursor = PageCursor(createdAt: video.createdAt, id: video.fileKey.rawValue)
                        return (cursor.createdAtMicroseconds, cursor.id) < (after.createdAtMicroseconds, after.id)
                    }
                    .sorted { ($0.createdAt, $0.fileKey) > ($1.createdAt, $1.fileKey) }
                    .prefix(page.limit + 1)
            )
        }
    }

    func transaction<Result: Sendable>(_ body: @Sendable (any VideoTransaction) async throws -> Result) async throws -> Result {
        try await turn.take {
            let working = InMemoryVideoTransaction(state: state.withLock { $0 })
            let result = try await body(working)
            // Only what the transaction touched: records created meanwhile outside it stay.
            let (changed, touched) = working.state.withLock { ($0, working.touched.withLock { $0 }) }
            state.withLock { state in
                for key in touched { state.videos[key] = changed.videos[key] }
                state.events += changed.events.dropFirst(working.eventsBefore)
                state.deleted += changed.deleted.dropFirst(working.deletedBefore)
            }
            return result
        }
    }
}

/// A working copy of the state, written back when the transaction's body returns.
private final class InMemoryVideoTransaction: VideoTransaction {
    let state: Mutex<InMemoryVideoRepository.State>
    /// The file keys this transaction changed or deleted.
    let touched = Mutex<Set<VideoKey>>([])
    let eventsBefore: Int
    let deletedBefore: Int

    init(state: InMemoryVideoRepository.State) {
        self.state = Mutex(state)
        eventsBefore = state.events.count
        deletedBefore = state.deleted.count
    }

    func find(fileKey: VideoKey) async throws -> Video? { state.withLock { $0.videos[fileKey] } }

    func markUploaded(fileKey: VideoKey, sizeBytes: Int64, eTag: String?) async throws -> Video? {
        state.withLock { state in
            guard var video = state.videos[fileKey], video.status == .pending else { return nil }
            video.status = .uploaded
            video.sizeBytes = sizeBytes
            video.eTag = eTag
            video.uploadedAt = Date()
            state.videos[fileKey] = video
            touched.withLock { _ = $0.insert(fileKey) }
            return video
        }
    }

    func delete(fileKey: VideoKey, ownerID: UserID) async throws -> Video? {
        state.withLock { state in
            guard let video = state.videos[fileKey], video.ownerID == ownerID else { return nil }
            state.videos[fileKey] = nil
            touched.withLock { _ = $0.insert(fileKey) }
            return video
        }
    }

    func deleteAll(ownerID: UserID) async throws -> [Video] {
        state.withLock { state in
            let gone = state.videos.values.filter { $0.ownerID == ownerID }
            for video in gone { state.videos[video.fileKey] = nil }
            touched.withLock { $0.formUnion(gone.map(\.fileKey)) }
            return gone
        }
    }

    func publish<Payload: Codable & Sendable>(_ event: CloudEvent<Payload>, topic: String) async throws {
        state.withLock { state in
            if let uploaded = event as? CloudEvent<VideoUploaded> { state.events.append(uploaded) }
            if let deleted = event as? CloudEvent<VideoDeleted> { state.deleted.append(deleted) }
        }
    }
}
