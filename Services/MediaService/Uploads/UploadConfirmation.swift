import ECGPlatform
import ECGS3
import Logging

/// Turns a `pending` video into an `uploaded` one when its object is in S3: used by `complete`, by
/// `download-url`, and by the internal lookup, so that clients that never call `complete` still work.
///
/// Security review M5: the object must have exactly the declared size and the declared type
/// (otherwise it is deleted and the video stays pending), and its ETag is recorded; an `uploaded`
/// video whose object's ETag changed since (overwritten through the still-valid PUT URL) is refused.
struct UploadConfirmation: Sendable {
    let records: VideoRecords
    let storage: any VideoStorage
    let maxUploadBytes: Int64

    enum Mismatch: Sendable, Equatable {
        case size(declared: Int64, stored: Int64)
        case contentType(declared: String, stored: String)
    }

    enum Outcome: Sendable, Equatable {
        case uploaded(Video)
        /// No object under the key (yet, or any more).
        case missing(Video)
        /// The object is larger than `MAX_UPLOAD_BYTES` (records made before `size_bytes` was required); deleted.
        case tooLarge(Video, sizeBytes: Int64)
        /// The object is not what was declared at generate-url; deleted, the video stays pending.
        case mismatch(Video, Mismatch)
        /// The object changed after `complete` accepted it (another ETag).
        case changed(Video)
    }

    func confirm(_ video: Video, logger: Logger) async throws -> Outcome {
        let object: S3ObjectInfo?
        do {
            object = try await storage.head(key: video.fileKey)
        } catch {
            logger.error("S3 HEAD failed", metadata: ["file_key": "\(video.fileKey)", "error": "\(error)"])
            throw MediaErrors.storageUnavailable
        }
        if video.status == .uploaded {
            guard let object else { return .missing(video) }
            if let recorded = video.eTag, object.eTag != recorded {
                logger.warning(
                    "object changed after complete",
                    metadata: ["file_key": "\(video.fileKey)", "etag": "\(recorded)", "now": "\(object.eTag ?? "none")"]
                )
                return .changed(video)
            }
            return .uploaded(video)
        }
        guard let object else { return .missing(video) }
        if object.contentLength > maxUploadBytes {
            try await discard(video, reason: "larger than MAX_UPLOAD_BYTES", logger: logger)
            return .tooLarge(video, sizeBytes: object.contentLength)
        }
        if let declared = video.declaredSizeBytes, declared != object.contentLength {
            try await discard(video, reason: "size differs from the declared size", logger: logger)
            return .mismatch(video, .size(declared: declared, stored: object.contentLength))
        }
        if let stored = object.contentType.map(VideoContentType.mediaType(ofHeader:)), stored != video.contentType {
            try await discard(video, reason: "content type differs from the declared type", logger: logger)
            return .mismatch(video, .contentType(declared: video.contentType, stored: stored))
        }
        guard let result = try await records.markUploaded(fileKey: video.fileKey, sizeBytes: object.contentLength, eTag: object.eTag) else {
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

    /// Deletes an object that was not what the record declared; the record stays pending, so the
    /// client may upload again (the URL is still signed for the declared size and type).
    private func discard(_ video: Video, reason: String, logger: Logger) async throws {
        logger.warning("deleting a refused upload", metadata: ["file_key": "\(video.fileKey)", "reason": "\(reason)"])
        do {
            try await storage.delete(key: video.fileKey)
        } catch {
            logger.error("S3 delete failed", metadata: ["file_key": "\(video.fileKey)", "error": "\(error)"])
            throw MediaErrors.storageUnavailable
        }
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

    static func unsupportedContentType(_ value: String) -> APIError {
        APIError(
            .unprocessableContent,
            code: "unsupported_content_type",
            detail: "content_type must be one of \(VideoContentType.allowed.joined(separator: ", ")) (got \(value.prefix(100)))."
        )
    }

    static func uploadMismatch(_ mismatch: UploadConfirmation.Mismatch) -> APIError {
        switch mismatch {
        case .size(let declared, let stored):
            APIError(
                .conflict,
                code: "upload_size_mismatch",
                detail: "The uploaded file has \(stored) bytes but \(declared) were declared; it was deleted. Upload the file again."
            )
        case .contentType(let declared, let stored):
            APIError(
                .conflict,
                code: "upload_type_mismatch",
                detail: "The uploaded file's type is \(stored.prefix(100)) but \(declared) was declared; it was deleted. Upload the file again."
            )
        }
    }

    static let uploadChanged = APIError(
        .conflict,
        code: "upload_changed",
        detail: "The stored file changed after the upload was completed and is refused. Delete the video and upload it again."
    )

    static func storageQuotaExceeded(limit: Int64) -> APIError {
        APIError(
            .contentTooLarge,
            code: "storage_quota_exceeded",
            detail: "This upload would exceed your \(limit)-byte storage quota (uploaded and pending videos count). Delete videos to make room."
        )
    }

    static func fileTooLarge(limit: Int64) -> APIError {
        APIError(.contentTooLarge, code: "file_too_large", detail: "The file is larger than the \(limit)-byte upload limit.")
    }
}
