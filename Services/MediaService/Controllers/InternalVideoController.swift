import ECGEvents
import ECGPlatform
import Foundation
import Hummingbird

/// `GET /internal/videos/{file_key}` for analysis-service (SPEC.md §4): service tokens addressed to
/// media-service only. Answers the record and a presigned GET for ML workers.
struct InternalVideoController: Sendable {
    let repository: any VideoRepository
    let storage: any VideoStorage
    let confirmation: UploadConfirmation
    /// `WORKER_URL_TTL_SECONDS`.
    let workerURLSeconds: Int
    /// The issuers allowed to call this route (review L2): a trusted service token from anyone else
    /// (auth-service, media-service itself) is refused with 403.
    var allowedCallers: Set<String> = ["analysis-service"]

    /// camelCase in Swift, SPEC's names on the wire (analysis-service's `VideoInfo` reads them).
    struct VideoDetails: Encodable, Sendable {
        let fileKey: VideoKey
        let ownerID: UserID
        let status: Video.Status
        let contentType: String
        /// The object's size once uploaded; before that, the size the client declared (or null).
        let sizeBytes: Int64?
        let filename: String
        let createdAt: String
        /// A presigned GET on the internal S3 endpoint, valid for `WORKER_URL_TTL_SECONDS`.
        let downloadURL: String
        let downloadURLExpiresAt: String

        enum CodingKeys: String, CodingKey {
            case fileKey = "file_key"
            case ownerID = "owner_id"
            case status
            case contentType = "content_type"
            case sizeBytes = "size_bytes"
            case filename
            case createdAt = "created_at"
            case downloadURL = "download_url"
            case downloadURLExpiresAt = "download_url_expires_at"
        }
    }

    func addRoutes<Methods: RouterMethods>(to routes: DocumentedRoutes<Methods>) where Methods.Context == ECGRequestContext {
        routes.get("/internal/videos/{file_key}", routerPath: "/internal/videos/**", Self.operation) { _, context in
            JSONResponse(try await details(context: context))
        }
    }

    func details(context: ECGRequestContext) async throws -> VideoDetails {
        let caller = try context.requireIdentity()
        guard allowedCallers.contains(caller.issuer) else {
            context.logger.warning("internal call from a service that may not make it", metadata: ["caller": "\(caller.issuer)"])
            throw APIError(.forbidden, code: "caller_not_allowed", detail: "This service may not call this route.")
        }
        guard let key = FileKey.fromPath(context.parameters[Parameters.recursiveCaptureKey]),
            var video = try await repository.find(fileKey: key)
        else { throw MediaErrors.videoNotFound }
        // A client that never called `complete` still gets its video analysed.
        switch try await confirmation.confirm(video, logger: context.logger) {
        case .uploaded(let confirmed):
            video = confirmed
        case .changed:
            // Overwritten after `complete`: the bytes are not the ones the user completed (M5).
            throw MediaErrors.uploadChanged
        case .missing, .tooLarge, .mismatch:
            break
        }
        context.logger.debug("internal video lookup", metadata: ["caller": "\(caller.issuer)", "file_key": "\(key)"])
        let download = storage.downloadRequest(key: video.fileKey, expires: workerURLSeconds, audience: .backend)
        return VideoDetails(
            fileKey: video.fileKey,
            ownerID: video.ownerID,
            status: video.status,
            contentType: video.contentType,
            sizeBytes: video.sizeBytes ?? video.declaredSizeBytes,
            filename: video.filename,
            createdAt: EventCoding.formatTimestamp(video.createdAt),
            downloadURL: download.url,
            downloadURLExpiresAt: EventCoding.formatTimestamp(download.expiresAt)
        )
    }

    static let operation = OpenAPIOperation(
        "A video's record and a presigned GET URL for ML workers (service tokens for media-service only)",
        responses: [
            200: .init(
                "The video",
                // size_bytes is left out (not null) for a pending video that declared no size.
                .object(
                    [
                        "file_key": .text, "owner_id": .text, "status": .string(enumValues: ["pending", "uploaded"]), "content_type": .text,
                        "size_bytes": .integer(), "filename": .text, "created_at": .dateTime, "download_url": .text,
                        "download_url_expires_at": .dateTime,
                    ],
                    required: ["file_key", "owner_id", "status", "content_type", "filename", "created_at", "download_url", "download_url_expires_at"]
                )
            ),
            401: .init("Not a service token for media-service from a trusted issuer", .error),
            403: .init("A trusted service that may not call this route (`caller_not_allowed`); only analysis-service may", .error),
            404: .init("No such video (`video_not_found`)", .error),
            409: .init("The object changed after `complete` (`upload_changed`)", .error),
            503: .init("S3 is unreachable (`storage_unavailable`)", .error),
        ]
    )
}
