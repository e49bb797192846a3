import ECGTokens
import Hummingbird
import Logging
import NIOCore

/// What every ECG request context carries: the request id and, after authentication, the caller.
public protocol ECGRequestContextProtocol: RequestContext {
    var requestID: String { get set }
    var identity: VerifiedToken? { get set }
}

/// The request context of all three services. Bodies are limited to 64 KiB (SPEC.md §3).
public struct ECGRequestContext: ECGRequestContextProtocol {
    public var coreContext: CoreRequestContextStorage
    public var requestID: String = ""
    public var identity: VerifiedToken?
    /// The TCP peer's IP address: the proxy in front, or the client when there is none; nil in router tests.
    public var peerAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.peerAddress = source.channel.remoteAddress?.ipAddress
    }

    public var maxUploadSize: Int { HTTPLimits.maxBodyBytes }

    /// The authenticated caller's `sub`; throws 401 when the route forgot its authentication middleware.
    public func requireIdentity() throws -> VerifiedToken {
        guard let identity else { throw APIError.unauthorized() }
        return identity
    }
}

public enum HTTPLimits {
    public static let maxBodyBytes = 64 * 1024
}
