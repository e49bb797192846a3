import ECGEvents

/// What a new job is made of; the store sets its state (processing) and its times.
struct NewJob: Sendable, Equatable {
    let id: JobID
    let userID: UserID
    let videoFileKey: VideoKey
    let analysisType: AnalysisType
    let language: String?
}
