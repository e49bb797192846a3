import Foundation

/// Where S3 answers: scheme, host and port, without a path (`https://s3.eu-west-1.amazonaws.com`,
/// `http://127.0.0.1:9000`).
package struct S3Endpoint: Sendable, Equatable, CustomStringConvertible {
    package let scheme: String
    package let host: String
    /// Only when it differs from the scheme's default port.
    package let port: Int?

    /// Parses `http(s)://host[:port]`, with an optional trailing slash.
    package init(url: String) throws(S3Error) {
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
            components.path.isEmpty || components.path == "/", components.query == nil, components.fragment == nil,
            components.user == nil, components.password == nil
        else { throw .invalidEndpoint(url) }
        self.scheme = scheme
        // Foundation may or may not keep an IPv6 literal's brackets; `hostHeader` adds them back.
        self.host = (host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host).lowercased()
        let defaultPort = scheme == "https" ? 443 : 80
        self.port = components.port.flatMap { $0 == defaultPort ? nil : $0 }
    }

    /// AWS's regional endpoint, `https://s3.<region>.amazonaws.com`.
    package static func aws(region: String) -> S3Endpoint {
        // The region comes from configuration; a malformed one fails when the URL is used, not here.
        (try? S3Endpoint(url: "https://s3.\(region).amazonaws.com")) ?? S3Endpoint(scheme: "https", host: "s3.amazonaws.com", port: nil)
    }

    init(scheme: String, host: String, port: Int?) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// The `Host` header value for `host` on this endpoint's port: what a client sends, and so what is signed.
    package func hostHeader(for host: String? = nil) -> String {
        var name = host ?? self.host
        // IPv6 literals are bracketed in URLs and Host headers.
        if name.utf8.contains(UInt8(ascii: ":")) { name = "[\(name)]" }
        return port.map { "\(name):\($0)" } ?? name
    }

    package var description: String { "\(scheme)://\(hostHeader())" }
}
