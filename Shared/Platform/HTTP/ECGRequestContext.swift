import ECGEvents
import ECGTokens
import Hummingbird
import Logging
import NIOCore

/// What every ECG request context carries: the request id and, after authentication, the caller.
package protocol ECGRequestContextProtocol: RequestContext {
    var requestID: String { get set }
    var identity: VerifiedToken? { get set }
}

/// The request context of all three services. Bodies are limited to 64 KiB (SPEC.md §3).
package struct ECGRequestContext: ECGRequestContextProtocol {
    package var coreContext: CoreRequestContextStorage
    package var requestID: String = ""
    package var identity: VerifiedToken?
    /// The TCP peer: the proxy in front, or the client when there is none; nil in router tests.
    private let peer: SocketAddress?

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.peer = source.channel.remoteAddress
    }

    /// The TCP peer's IP address, formatted only by the routes that ask (login's rate limits): every
    /// request formatting it was 0.5% of `/health`'s CPU (perf).
    package var peerAddress: String? { peer?.ipAddress }

    package var maxUploadSize: Int { HTTPLimits.maxBodyBytes }

    /// The authenticated caller's `sub`; throws 401 when the route forgot its authentication middleware.
    package func requireIdentity() throws -> VerifiedToken {
        guard let identity else { throw APIError.unauthorized() }
        return identity
    }

    /// The user a user access token was issued to; 401 when the token's `sub` is not a user id.
    package func requireUserID() throws -> UserID {
        guard let userID = UserID(try requireIdentity().subject) else { throw APIError.tokenWithoutUser }
        return userID
    }
}

extension APIError {
    /// A valid token whose `sub` is not a user id (a service token on a user route).
    package static let tokenWithoutUser = APIError.unauthorized("The bearer token does not name a user.", code: "invalid_token")
}

package enum HTTPLimits {
    package static let maxBodyBytes = 64 * 1024
}
