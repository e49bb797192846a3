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
