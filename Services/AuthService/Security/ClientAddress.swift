import Foundation
import HTTPTypes
import NIOCore

/// The address a request came from, for rate limits and the login lockout (security review M4).
///
/// Every shipped deployment has exactly one proxy in front of auth-service: the gateway's nginx
/// locally and in compose (`proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`), the ALB
/// in AWS (which appends to `X-Forwarded-For` by default and forwards straight to the service's
/// target group). Each proxy *appends* the address it saw, so with `trustedProxyHops` proxies the
/// client is the `trustedProxyHops`-th entry from the right. Everything left of it was written by the
/// client and is ignored: trusting the leftmost entry would let anyone pick a fresh address per
/// request. With `trustedProxyHops == 0`, or when the header has fewer entries (a request that did
/// not come through the proxy, e.g. on the service's own port), the TCP peer address counts.
///
/// This is only sound when the service cannot be reached around the proxy: the AWS security group
/// admits only the load balancer, and the local stack binds 127.0.0.1.
struct ClientAddressResolver: Sendable {
    let trustedProxyHops: Int

    /// The key for per-client limits: an IPv4 address, an IPv6 /64 (a single host usually owns a
    /// whole /64), or "unknown" when neither the header nor the peer gives an address.
    func clientKey(headers: HTTPFields, peer: String?) -> String {
        if trustedProxyHops > 0 {
            let entries = headers[values: .xForwardedFor]
                .flatMap { $0.split(separator: ",") }
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if entries.count >= trustedProxyHops {
                // The proxy wrote this entry; if it is not an address, the proxy is misconfigured and
                // the peer is the better key.
                if let key = Self.limitKey(entries[entries.count - trustedProxyHops]) { return key }
            }
        }
        return peer.flatMap(Self.limitKey) ?? "unknown"
    }

    /// The rate-limit key of a textual IP address, or nil when it is not one. IPv4-mapped IPv6
    /// addresses count as their IPv4 address.
    static func limitKey(_ text: String) -> String? {
        guard !text.isEmpty, text.utf8.count <= 64, let address = try? SocketAddress(ipAddress: text, port: 0) else { return nil }
        switch address {
        case .v4:
            return address.ipAddress
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
                return bytes[12..<16].map(String.init).joined(separator: ".")
            }
            let prefix = stride(from: 0, to: 8, by: 2).map { String(format: "%02x%02x", bytes[$0], bytes[$0 + 1]) }
            return prefix.joined(separator: ":") + "::/64"
        default:
            return nil
        }
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
