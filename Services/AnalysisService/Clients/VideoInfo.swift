import ECGEvents

/// What media-service's internal API says about a video.
struct VideoInfo: Decodable, Sendable {
    let fileKey: VideoKey
    let ownerID: UserID
    /// `pending` or `uploaded` (text, so that a status added later is not a decoding failure).
    let status: String
    let downloadURL: String?
    let downloadURLExpiresAt: String?

    var isUploaded: Bool { status == "uploaded" }

    /// media-service's names on the wire.
    enum CodingKeys: String, CodingKey {
        case fileKey = "file_key"
        case ownerID = "owner_id"
        case status
        case downloadURL = "download_url"
        case downloadURLExpiresAt = "download_url_expires_at"
    }
}
