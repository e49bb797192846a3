import ECGPlatform
import Hummingbird

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
