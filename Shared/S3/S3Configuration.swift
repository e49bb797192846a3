/// One bucket on one S3 endpoint, with the credentials that sign for it.
package struct S3Configuration: Sendable, Equatable {
    package var bucket: String
    package var region: String
    /// Where this service talks to S3 (HEAD, create bucket) and where worker URLs point.
    package var endpoint: S3Endpoint
    /// The host browsers must use when it differs from `endpoint` (`S3_PUBLIC_ENDPOINT`); browser URLs
    /// are signed for this host, since the `Host` header is part of the signature.
    package var publicEndpoint: S3Endpoint?
    package var credentials: S3Credentials
    /// Path-style (`host/bucket/key`) instead of virtual-host style (`bucket.host/key`).
    package var forcePathStyle: Bool

    package init(
        bucket: String,
        region: String,
        endpoint: S3Endpoint,
        publicEndpoint: S3Endpoint? = nil,
        credentials: S3Credentials,
        forcePathStyle: Bool
    ) {
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint
        self.publicEndpoint = publicEndpoint
        self.credentials = credentials
        self.forcePathStyle = forcePathStyle
    }

    /// Which of the two endpoints a URL is for.
    package enum Audience: Sendable {
        /// Browsers: `publicEndpoint` when set.
        case browser
        /// This service and the backend's workers: `endpoint`.
        case backend
    }

    package func endpoint(for audience: Audience) -> S3Endpoint {
        switch audience {
        case .browser: publicEndpoint ?? endpoint
        case .backend: endpoint
        }
    }

    /// The host header and the canonical (encoded) path of an object, or of the bucket when `key` is nil.
    package func address(key: String?, on endpoint: S3Endpoint) -> (host: String, path: String) {
        let encodedKey = key.map { SigV4.uriEncode($0, encodeSlash: false) }
        if forcePathStyle {
            let bucketPath = "/" + SigV4.uriEncode(bucket, encodeSlash: true)
            return (endpoint.hostHeader(), encodedKey.map { bucketPath + "/" + $0 } ?? bucketPath)
        }
        return (endpoint.hostHeader(for: "\(bucket).\(endpoint.host)"), "/" + (encodedKey ?? ""))
    }
}
