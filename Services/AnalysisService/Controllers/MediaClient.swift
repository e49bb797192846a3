import AsyncHTTPClient
import ECGPlatform
import ECGTokens
import Foundation
import Logging
import NIOCore

/// What media-service's internal API says about a video.
struct VideoInfo: Decodable, Sendable {
    let file_key: String
    let owner_id: String
    let status: String
    let download_url: String?
    let download_url_expires_at: String?
}

/// Asks media-service (`GET /internal/videos/{file_key}`) with a service token, within a deadline.
struct MediaClient: Sendable {
    let baseURL: String
    let httpClient: HTTPClient
    let serviceTokens: ServiceTokenClient
    let timeout: TimeAmount = .seconds(5)
    let logger: Logger

    /// The video, or nil when media-service does not know it. Throws 503 when media-service cannot answer.
    func video(fileKey: String) async throws -> VideoInfo? {
        let encoded = fileKey.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#%"))) ?? fileKey
        var request = HTTPClientRequest(url: "\(baseURL)/internal/videos/\(encoded)")
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
