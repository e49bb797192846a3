import ECGEvents
import ECGS3
import Foundation

/// What the routes need from S3, by video key; `S3Client` in the service, a fake in unit tests.
protocol VideoStorage: Sendable {
    func uploadRequest(key: VideoKey, contentType: String, contentLength: Int64?, expires: Int) -> PresignedRequest
    func downloadRequest(key: VideoKey, expires: Int, audience: S3Configuration.Audience) -> PresignedRequest
    /// The object's size and type, or nil when it does not exist.
    func head(key: VideoKey) async throws -> S3ObjectInfo?
    /// Deletes the object; one that does not exist counts as deleted.
    func delete(key: VideoKey) async throws
}

extension S3Client: VideoStorage {
    func uploadRequest(key: VideoKey, contentType: String, contentLength: Int64?, expires: Int) -> PresignedRequest {
        presignedPut(key: key.rawValue, contentType: contentType, contentLength: contentLength, expires: expires, audience: .browser)
    }

    func downloadRequest(key: VideoKey, expires: Int, audience: S3Configuration.Audience) -> PresignedRequest {
        presignedGet(key: key.rawValue, expires: expires, audience: audience)
    }

    func head(key: VideoKey) async throws -> S3ObjectInfo? {
        try await headObject(key: key.rawValue)
    }

    func delete(key: VideoKey) async throws {
        try await deleteObject(key: key.rawValue)
    }
}
