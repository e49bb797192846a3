import ECGEvents
import AsyncHTTPClient
import ECGPlatform
import ECGTokens
import Foundation
import Logging
import NIOCore

/// Asks media-service (`GET /internal/videos/{file_key}`) with a service token, within a deadline.
struct MediaClient: Sendable {
    let baseURL: String
    let httpClient: HTTPClient
    let serviceTokens: ServiceTokenClient
    let timeout: TimeAmount = .seconds(5)
    let logger: Logger

    /// The video, or nil when media-service does not know it. Throws 503 when media-service cannot answer.
    func video(fileKey: VideoKey) async throws -> VideoInfo? {
        guard let path = Self.path(fileKey: fileKey.rawValue) else { return nil }
        var request = HTTPClientRequest(url: "\(baseURL)\(path)")
        do {
            request.headers.add(name: "Authorization", value: "Bearer \(try await serviceTokens.token(for: "media-service"))")
            let response = try await httpClient.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 1 << 20)
            switch response.status.code {
            case 200: return try JSONDecoder().decode(VideoInfo.self, from: Data(body.readableBytesView))
            case 404: return nil
            case 409:
                // The object changed after its upload was completed (media's `upload_changed`, review M5).
                throw Self.videoChanged
            default:
                logger.warning("media-service answered \(response.status.code)", metadata: ["file_key": "\(fileKey)"])
                throw Self.unavailable
            }
        } catch let error as APIError {
            throw error
        } catch {
            logger.warning("media-service unreachable", metadata: ["error": "\(error)"])
            throw Self.unavailable
        }
    }

    /// The internal lookup's path, each segment of the key percent-encoded but for RFC 3986's unreserved
    /// characters; nil for a key with an empty, `.` or `..` segment, which no upload has and which a
    /// normalising proxy would turn into another path (security review L13).
    static func path(fileKey: String) -> String? {
        let segments = fileKey.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else { return nil }
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let encoded = segments.map { $0.addingPercentEncoding(withAllowedCharacters: unreserved) ?? "" }
        return "/internal/videos/" + encoded.joined(separator: "/")
    }

    static let videoChanged = APIError(
        .conflict,
        code: "video_changed",
        detail: "The video's file changed after its upload was completed; delete it and upload it again."
    )

    static let unavailable = APIError(
        .serviceUnavailable,
        code: "media_service_unavailable",
        detail: "The video service is not answering right now; try again shortly.",
        headers: [.retryAfter: "5"]
    )
}
