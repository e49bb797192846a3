import ECGEvents

/// Which of a user's jobs a page lists.
struct JobFilter: Sendable, Equatable {
    var status: JobState.Status?
    var videoFileKey: VideoKey?
}
