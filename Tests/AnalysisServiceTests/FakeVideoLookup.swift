import ECGEvents
import ECGPlatform
import Synchronization

@testable import AnalysisService

/// media-service's internal lookup, answered from memory.
final class FakeVideoLookup: VideoLookup {
    let videos = Mutex<[VideoKey: VideoInfo]>([:])
    /// Thrown by every lookup while set (media-service down, a changed object).
    let failure = Mutex<APIError?>(nil)

    func add(fileKey: VideoKey, ownerID: UserID, uploaded: Bool = true) {
        videos.withLock {
            $0[fileKey] = VideoInfo(
                fileKey: fileKey,
                ownerID: ownerID,
                status: uploaded ? "uploaded" : "pending",
                downloadURL: "http://s3.test/\(fileKey)",
                downloadURLExpiresAt: "2030-01-01T00:00:00Z"
            )
        }
    }

    func video(fileKey: VideoKey) async throws -> VideoInfo? {
        if let failure = failure.withLock({ $0 }) { throw failure }
        return videos.withLock { $0[fileKey] }
    }
}
