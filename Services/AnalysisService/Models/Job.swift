import ECGEvents
import Foundation

/// A job as stored.
struct Job: Sendable, Equatable {
    let id: JobID
    let userID: UserID
    let videoFileKey: VideoKey
    let analysisType: AnalysisType
    var state: JobState
    let createdAt: Date
    var updatedAt: Date
    /// The spoken language the job asked for (nil: English).
    var language: String? = nil
}
