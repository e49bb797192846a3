import Foundation

/// `ecg.media.video.uploaded.v1`
package struct VideoUploaded: Codable, Sendable, Equatable {
    package var fileKey: VideoKey
    package var ownerID: UserID
    package var contentType: String
    package var sizeBytes: Int64

    package init(fileKey: VideoKey, ownerID: UserID, contentType: String, sizeBytes: Int64) {
        self.fileKey = fileKey
        self.ownerID = ownerID
        self.contentType = contentType
        self.sizeBytes = sizeBytes
    }

    private enum CodingKeys: String, CodingKey {
        case fileKey = "file_key"
        case ownerID = "owner_id"
        case contentType = "content_type"
        case sizeBytes = "size_bytes"
    }
}

/// `ecg.media.video.deleted.v1`, keyed by file key: the video and its object are gone.
package struct VideoDeleted: Codable, Sendable, Equatable {
    package var fileKey: VideoKey
    package var ownerID: UserID

    package init(fileKey: VideoKey, ownerID: UserID) {
        self.fileKey = fileKey
        self.ownerID = ownerID
    }

    private enum CodingKeys: String, CodingKey {
        case fileKey = "file_key"
        case ownerID = "owner_id"
    }
}
