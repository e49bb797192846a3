/// What a job analyses: one list for the request's validation, the OpenAPI document and the stored
/// value (the `jobs.analysis_type` CHECK of migration 0001 lists the same values; a test compares them).
enum AnalysisType: String, CaseIterable, Codable, Sendable {
    case emotionAnalysis = "emotion_analysis"
    case captionGeneration = "caption_generation"
    case fullAnalysis = "full_analysis"

    /// The wire values, in declaration order.
    static var wireValues: [String] { allCases.map(\.rawValue) }
}
