import ECGPlatform
import ECGS3
import Logging

/// Turns a `pending` video into an `uploaded` one when its object is in S3: used by `complete`, by
/// `download-url`, and by the internal lookup, so that clients that never call `complete` still work.
struct UploadConfirmation: Sendable {
    let repository: any VideoRepository
    let storage: any VideoStorage
    let maxUploadBytes: Int64

    enum Outcome: Sendable, Equatable {
        case uploaded(Video)
        /// No object under the key yet.
        case missing(Video)
        /// The object is larger than `MAX_UPLOAD_BYTES` (possible when no size was signed into the URL).
        case tooLarge(Video, sizeBytes: Int64)
    }

    func confirm(_ video: Video, logger: Logger) async throws -> Outcome {
        guard video.status == .pending else { return .uploaded(video) }
        let object: S3ObjectInfo?
        do {
            object = try await storage.head(key: video.fileKey)
        } catch {
            logger.error("S3 HEAD failed", metadata: ["file_key": "\(video.fileKey)", "error": "\(error)"])
            throw MediaErrors.storageUnavailable
        }
        guard let object else { return .missing(video) }
        guard object.contentLength <= maxUploadBytes else { return .tooLarge(video, sizeBytes: object.contentLength) }
        guard let result = try await repository.markUploaded(fileKey: video.fileKey, sizeBytes: object.contentLength) else {
            return .missing(video)
        }
        if result.changed {
            logger.info(
                "video uploaded",
                metadata: ["file_key": "\(video.fileKey)", "size_bytes": "\(object.contentLength)", "owner_id": "\(video.ownerID)"]
            )
        }
        return .uploaded(result.video)
    }
}

/// The errors media-service's routes answer with (SPEC.md §3).
enum MediaErrors {
    static let videoNotFound = APIError.notFound("No such video.", code: "video_not_found")
    static let uploadNotFound = APIError(
        .conflict,
        code: "upload_not_found",
        detail: "The file has not been uploaded yet: PUT it to the upload URL first."
    )
    static let storageUnavailable = APIError(
        .serviceUnavailable,
        code: "storage_unavailable",
        detail: "Video storage is unavailable right now; try again shortly."
    )
    static let invalidToken = APIError.unauthorized("The bearer token does not name a user.", code: "invalid_token")

    static func unsupportedContentType(_ value: String) -> APIError {
        APIError(
            .unprocessableContent,
            code: "unsupported_content_type",
            detail: "content_type must be one of \(VideoContentType.allowed.joined(separator: ", ")) (got \(value.prefix(100)))."
        )
    }

    static func fileTooLarge(limit: Int64) -> APIError {
        APIError(.contentTooLarge, code: "file_too_large", detail: "The file is larger than the \(limit)-byte upload limit.")
    }
}
