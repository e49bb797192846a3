import ECGEvents
import ECGPlatform
import Foundation
import Hummingbird

/// The public routes under `/api/upload-video` (SPEC.md §3: rows 8, 9, `complete`, `videos`); all need a user token.
struct UploadController: Sendable {
    let repository: any VideoRepository
    /// Changes that announce an event (the deletion's `video.deleted`).
    let records: VideoRecords
    let storage: any VideoStorage
    let confirmation: UploadConfirmation
    let maxUploadBytes: Int64
    let urlSeconds: Int
    /// `MAX_USER_STORAGE_BYTES`: a user's uploaded plus pending (declared) bytes.
    var maxUserStorageBytes: Int64 = MediaSettings.Defaults.maxUserStorageBytes

    // MARK: - Routes

    func addRoutes<Methods: RouterMethods>(to routes: DocumentedRoutes<Methods>) where Methods.Context == ECGRequestContext {
        routes.post("/api/upload-video/generate-url", Self.generateURLOperation) { request, context in
            JSONResponse(try await generateURL(request: request, context: context))
        }
        routes.get(
            "/api/upload-video/download-url/{file_key}",
            routerPath: "/api/upload-video/download-url/**",
            Self.downloadURLOperation
        ) { _, context in
            JSONResponse(try await downloadURL(context: context))
        }
        routes.post("/api/upload-video/complete", Self.completeOperation) { request, context in
            JSONResponse(try await complete(request: request, context: context))
        }
        routes.get("/api/upload-video/videos", Self.videosOperation) { request, context in
            JSONResponse(try await videos(request: request, context: context))
        }
        routes.on(.delete, "/api/upload-video/videos/{file_key}", routerPath: "/api/upload-video/videos/**", Self.deleteOperation) { _, context in
            try await delete(context: context)
            return Response(status: .noContent)
        }
    }

    func generateURL(request: Request, context: ECGRequestContext) async throws -> GenerateURLResponse {
        let ownerID = try context.requireUserID()
        let body = try await request.decodeJSON(GenerateURLRequest.self, context: context)
        let filename = try UploadFilename.validated(body.filename)
        guard let contentType = VideoContentType.normalize(body.contentType) else {
            throw MediaErrors.unsupportedContentType(body.contentType)
        }
        // Required: the size is signed into the URL as Content-Length, so the URL accepts exactly
        // that many bytes (security review M5); without it one URL would take up to S3's 5 GiB.
        guard let size = body.sizeBytes else { throw APIError.validation(field: "size_bytes", "is required") }
        guard size >= 1 else { throw APIError.validation(field: "size_bytes", "must be at least 1") }
        guard size <= maxUploadBytes else { throw MediaErrors.fileTooLarge(limit: maxUploadBytes) }
        let video = Video(
            fileKey: FileKey.make(filename: filename, contentType: contentType),
            ownerID: ownerID,
            filename: filename,
            contentType: contentType,
            declaredSizeBytes: size,
            sizeBytes: nil,
            status: .pending,
            createdAt: Date(),
            uploadedAt: nil
        )
        guard try await repository.create(video, quotaBytes: maxUserStorageBytes) else {
            throw MediaErrors.storageQuotaExceeded(limit: maxUserStorageBytes)
        }
        let upload = storage.uploadRequest(key: video.fileKey, contentType: contentType, contentLength: size, expires: urlSeconds)
        return GenerateURLResponse(
            uploadURL: upload.url,
            fileKey: video.fileKey,
            expiresIn: urlSeconds,
            uploadMethod: upload.method,
            uploadHeaders: upload.headers
        )
    }

    func downloadURL(context: ECGRequestContext) async throws -> DownloadURLResponse {
        let video = try await ownedVideo(key: FileKey.fromPath(context.parameters[Parameters.recursiveCaptureKey]), context: context)
        switch try await confirmation.confirm(video, logger: context.logger) {
        case .uploaded(let video):
            let download = storage.downloadRequest(key: video.fileKey, expires: urlSeconds, audience: .browser)
            return DownloadURLResponse(downloadURL: download.url, expiresIn: urlSeconds)
        case .missing:
            throw MediaErrors.uploadNotFound
        case .tooLarge:
            throw MediaErrors.fileTooLarge(limit: maxUploadBytes)
        case .mismatch(_, let mismatch):
            throw MediaErrors.uploadMismatch(mismatch)
        case .changed:
            throw MediaErrors.uploadChanged
        }
    }

    func complete(request: Request, context: ECGRequestContext) async throws -> CompleteResponse {
        _ = try context.requireUserID()
        let body = try await request.decodeJSON(CompleteRequest.self, context: context)
        guard !body.fileKey.isEmpty else { throw APIError.validation(field: "file_key", "must not be empty") }
        let video = try await ownedVideo(key: FileKey.lookupKey(body.fileKey), context: context)
        switch try await confirmation.confirm(video, logger: context.logger) {
        case .uploaded(let video):
            return CompleteResponse(fileKey: video.fileKey, status: video.status, sizeBytes: video.sizeBytes ?? 0, contentType: video.contentType)
        case .missing:
            throw MediaErrors.uploadNotFound
        case .tooLarge:
            throw MediaErrors.fileTooLarge(limit: maxUploadBytes)
        case .mismatch(_, let mismatch):
            throw MediaErrors.uploadMismatch(mismatch)
        case .changed:
            throw MediaErrors.uploadChanged
        }
    }

    func videos(request: Request, context: ECGRequestContext) async throws -> VideoList {
        let ownerID = try context.requireUserID()
        let page = try PageRequest(request)
        let (videos, next) = page.page(try await repository.list(ownerID: ownerID, page: page)) {
            PageCursor(createdAt: $0.createdAt, id: $0.fileKey.rawValue)
        }
        return VideoList(items: videos.map(VideoItem.init), nextCursor: next?.token)
    }

    /// Deletes the object first, then the record with its `video.deleted` event: if the second step
    /// fails the record stays and the client's retry finishes the job (deleting a gone object succeeds).
    func delete(context: ECGRequestContext) async throws {
        let video = try await ownedVideo(key: FileKey.fromPath(context.parameters[Parameters.recursiveCaptureKey]), context: context)
        do {
            try await storage.delete(key: video.fileKey)
        } catch {
            context.logger.warning("S3 delete failed", metadata: ["error": "\(error)"])
            throw MediaErrors.storageUnavailable
        }
        guard try await records.delete(fileKey: video.fileKey, ownerID: video.ownerID) != nil else { throw MediaErrors.videoNotFound }
    }

    // MARK: - Helpers

    /// The caller's video under `key`; anyone else's, or none, is 404 (never 403).
    private func ownedVideo(key: VideoKey?, context: ECGRequestContext) async throws -> Video {
        let ownerID = try context.requireUserID()
        guard let key, let video = try await repository.find(fileKey: key), video.ownerID == ownerID else {
            throw MediaErrors.videoNotFound
        }
        return video
    }

}
