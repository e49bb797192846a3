import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// Exchanges an authorization code at `GOOGLE_TOKEN_URL` (client secret + PKCE verifier) for an id_token.
struct GoogleTokenClient: Sendable {
    let settings: AuthSettings.Google
    let httpClient: HTTPClient
    let logger: Logger

    func exchange(code: String, verifier: String) async throws(GoogleSignInError) -> String {
        struct TokenResponse: Decodable {
            var idToken: String?

            enum CodingKeys: String, CodingKey { case idToken = "id_token" }
        }
        var request = HTTPClientRequest(url: settings.tokenURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(
            ByteBuffer(
                string: FormEncoding.encode([
                    ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", settings.redirectURI), ("client_id", settings.clientID),
                    ("client_secret", settings.clientSecret), ("code_verifier", verifier),
                ])
            )
        )
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                throw GoogleSignInError.tokenExchangeFailed("token endpoint answered \(response.status.code)")
            }
            guard let idToken = try JSONDecoder().decode(TokenResponse.self, from: Data(body.readableBytesView)).idToken, !idToken.isEmpty else {
                throw GoogleSignInError.tokenExchangeFailed("no id_token in the answer")
            }
            return idToken
        } catch let error as GoogleSignInError {
            throw error
        } catch {
            logger.warning("Google token exchange failed", metadata: ["error": "\(error)"])
            throw .tokenExchangeFailed("\(type(of: error))")
        }
    }
}

/// `application/x-www-form-urlencoded` and query strings: everything but RFC 3986's unreserved characters is percent-encoded.
enum FormEncoding {
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    static func escape(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
