import Foundation

/// `ecg.media.video.uploaded.v1`
package struct VideoUploaded: Codable, Sendable, Equatable {
    package var file_key: String
    package var owner_id: String
    package var content_type: String
    package var size_bytes: Int64

    package init(file_key: String, owner_id: String, content_type: String, size_bytes: Int64) {
        self.file_key = file_key
        self.owner_id = owner_id
        self.content_type = content_type
        self.size_bytes = size_bytes
    }
}

/// `ecg.media.video.deleted.v1`, keyed by file key: the video and its object are gone.
package struct VideoDeleted: Codable, Sendable, Equatable {
    package var file_key: String
    package var owner_id: String

    package init(file_key: String, owner_id: String) {
        self.file_key = file_key
        self.owner_id = owner_id
    }
}
