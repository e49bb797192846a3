import ECGPlatform
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import AuthService

/// Security review M4: login and signup are limited per client address and per replica, and the
/// login lockout counts per email and client, so an attacker cannot lock the owner out.
@Suite("login and signup rate limits")
struct RateLimitTests {
    // MARK: - The limiter

    @Test("a bucket allows its capacity at once, then refuses with the seconds until the next token")
    func bucket() {
        let limiter = RateLimiter(capacity: 3, period: 60)
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        for _ in 0..<3 { #expect(limiter.acquire("a", now: t0) == .allowed) }
        // One token every 20 s.
        #expect(limiter.acquire("a", now: t0) == .limited(retryAfter: 20))
        #expect(limiter.acquire("a", now: t0.addingTimeInterval(5)) == .limited(retryAfter: 15))
        // Another key has its own bucket.
        #expect(limiter.acquire("b", now: t0) == .allowed)
        #expect(limiter.acquire("a", now: t0.addingTimeInterval(20)) == .allowed)
        #expect(limiter.acquire("a", now: t0.addingTimeInterval(20)) == .limited(retryAfter: 20))
        // A long pause refills to the capacity, not beyond.
        let later = t0.addingTimeInterval(3600)
        for _ in 0..<3 { #expect(limiter.acquire("a", now: later) == .allowed) }
        #expect(limiter.acquire("a", now: later) != .allowed)
        // A clock that steps back refills nothing.
        #expect(limiter.acquire("a", now: t0) != .allowed)
    }

    @Test("the key table is bounded: idle keys are dropped; when all are busy a new key is not tracked")
    func boundedTable() {
        let limiter = RateLimiter(capacity: 2, period: 10, maximumKeys: 3)
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        for key in ["a", "b", "c"] { #expect(limiter.acquire(key, now: t0) == .allowed) }
        #expect(limiter.keyCount == 3)
        // Every bucket is in use: the new key goes through untracked (the global limit still applies).
        #expect(limiter.acquire("d", now: t0) == .allowed)
        #expect(limiter.keyCount == 3)
        // 10 s later all three have refilled and are dropped to make room.
        #expect(limiter.acquire("d", now: t0.addingTimeInterval(10)) == .allowed)
        #expect(limiter.keyCount == 1)
    }

    @Test("per client first, then global; a client refused takes nothing from the global bucket")
    func passwordRouteLimits() {
        let limits = PasswordRouteLimits(.init(perClientPerMinute: 2, globalPerSecond: 3, trustedProxyHops: 1))
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        #expect(limits.admit(client: "a", now: t0) == nil)
        #expect(limits.admit(client: "a", now: t0) == nil)
        #expect(limits.admit(client: "a", now: t0) == .client(retryAfter: 30))
        #expect(limits.admit(client: "b", now: t0) == nil)
        #expect(limits.admit(client: "c", now: t0) == .global(retryAfter: 1))
        #expect(limits.admit(client: "c", now: t0.addingTimeInterval(1)) == nil)
    }

    // MARK: - The client address

    @Test("X-Forwarded-For: the entry the trusted proxy appended counts; what the client wrote is ignored")
    func clientAddress() {
        let oneProxy = ClientAddressResolver(trustedProxyHops: 1)
        func key(_ resolver: ClientAddressResolver, _ forwarded: [String], peer: String? = "10.0.0.5") -> String {
            var headers = HTTPFields()
            for value in forwarded { headers.append(HTTPField(name: .xForwardedFor, value: value)) }
            return resolver.clientKey(headers: headers, peer: peer)
        }
        #expect(key(oneProxy, ["198.51.100.7"]) == "198.51.100.7")
        // A client-supplied entry on the left (spoofing) does not change the key.
        #expect(key(oneProxy, ["1.2.3.4, 198.51.100.7"]) == "198.51.100.7")
        #expect(key(oneProxy, ["1.2.3.4", "198.51.100.7"]) == "198.51.100.7")
        // No header (a request on the service's own port): the peer.
        #expect(key(oneProxy, []) == "10.0.0.5")
        #expect(key(oneProxy, [], peer: nil) == "unknown")
        // Not an address where the proxy writes one: the peer.
        #expect(key(oneProxy, ["1.2.3.4, garbage"]) == "10.0.0.5")
        // No trusted proxy: the header is ignored.
        #expect(key(ClientAddressResolver(trustedProxyHops: 0), ["198.51.100.7"]) == "10.0.0.5")
        // Two proxies (e.g. a CDN, then the ALB): the second entry from the right.
        #expect(key(ClientAddressResolver(trustedProxyHops: 2), ["1.2.3.4, 198.51.100.7, 10.0.0.9"]) == "198.51.100.7")
        #expect(key(ClientAddressResolver(trustedProxyHops: 2), ["198.51.100.7"]) == "10.0.0.5")
        // IPv6 by its /64; IPv4-mapped IPv6 as IPv4.
        #expect(key(oneProxy, ["2001:db8:1:2:aaaa::1"]) == "2001:0db8:0001:0002::/64")
        #expect(key(oneProxy, ["2001:db8:1:2:bbbb::9"]) == "2001:0db8:0001:0002::/64")
        #expect(key(oneProxy, ["::ffff:198.51.100.7"]) == "198.51.100.7")
    }

    // MARK: - Routes

    static func login(_ client: some TestClientProtocol, from address: String, email: String, password: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/api/auth/login",
            method: .post,
            headers: [.contentType: "application/json", .xForwardedFor: address],
            body: jsonBody(["email": email, "password": password])
        )
    }

    @Test("per client: the 4th login or signup within a minute from one address is 429 rate_limited with Retry-After")
    func perClientRoute() async throws {
        let app = try await TestAuthApp(rateLimits: .init(perClientPerMinute: 3, globalPerSecond: 1000, trustedProxyHops: 1))
        let clock = app.clock
        try await app.application.test(.router) { client in
            let signup = try await client.execute(
                uri: "/api/auth/signup",
                method: .post,
                headers: [.contentType: "application/json", .xForwardedFor: "198.51.100.7"],
                body: jsonBody(["username": "mallory", "email": "m@example.com", "password": "password123"])
            )
            #expect(signup.status == .created)
            for _ in 0..<2 {
                #expect(try await Self.login(client, from: "198.51.100.7", email: "x@example.com", password: "password123").status == .unauthorized)
            }
            // A spoofed entry on the left does not make a new client.
            let limited = try await Self.login(client, from: "203.0.113.99, 198.51.100.7", email: "x@example.com", password: "password123")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.json?["code"] as? String == "rate_limited")
            #expect((limited.json?["detail"] as? String)?.isEmpty == false)
            #expect(limited.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(limited.headers[.retryAfter] == "20")
            // Signup shares the bucket.
            let limitedSignup = try await client.execute(
                uri: "/api/auth/signup",
                method: .post,
                headers: [.contentType: "application/json", .xForwardedFor: "198.51.100.7"],
                body: jsonBody(["username": "mallory2", "email": "m2@example.com", "password": "password123"])
            )
            #expect(limitedSignup.status == .tooManyRequests)
            // Another address is not affected; 20 s later the first one has a token again.
            #expect(try await Self.login(client, from: "198.51.100.8", email: "x@example.com", password: "password123").status == .unauthorized)
            clock.advance(by: 20)
            #expect(try await Self.login(client, from: "198.51.100.7", email: "x@example.com", password: "password123").status == .unauthorized)
        }
    }

    @Test("global: past the per-second budget of the replica every address gets 429 until the next second")
    func globalRoute() async throws {
        let app = try await TestAuthApp(rateLimits: .init(perClientPerMinute: 1000, globalPerSecond: 2, trustedProxyHops: 1))
        let clock = app.clock
        try await app.application.test(.router) { client in
            #expect(try await Self.login(client, from: "198.51.100.1", email: "x@example.com", password: "password123").status == .unauthorized)
            #expect(try await Self.login(client, from: "198.51.100.2", email: "x@example.com", password: "password123").status == .unauthorized)
            let limited = try await Self.login(client, from: "198.51.100.3", email: "x@example.com", password: "password123")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.json?["code"] as? String == "rate_limited")
            #expect(limited.headers[.retryAfter] == "1")
            clock.advance(by: 1)
            #expect(try await Self.login(client, from: "198.51.100.3", email: "x@example.com", password: "password123").status == .unauthorized)
        }
    }

    @Test("an attacker's failures lock only the attacker's address out: the owner still logs in from theirs")
    func lockoutPerClient() async throws {
        let app = try await TestAuthApp()
        let clock = app.clock
        try await app.application.test(.router) { client in
            _ = try await client.post("/api/auth/signup", json: ["username": "victim", "email": "victim@example.com", "password": "password123"])
            for _ in 0..<5 {
                let failure = try await Self.login(client, from: "203.0.113.66", email: "victim@example.com", password: "guess-guess")
                #expect(failure.status == .unauthorized)
            }
            let attacker = try await Self.login(client, from: "203.0.113.66", email: "victim@example.com", password: "password123")
            #expect(attacker.status == .tooManyRequests)
            #expect(attacker.json?["code"] as? String == "too_many_attempts")
            #expect(attacker.headers[.retryAfter] == "900")
            // The owner, at another address, is not locked out, with the right password...
            #expect(try await Self.login(client, from: "198.51.100.20", email: "victim@example.com", password: "password123").status == .ok)
            // ...and that success does not free the attacker's address.
            #expect(try await Self.login(client, from: "203.0.113.66", email: "victim@example.com", password: "password123").status == .tooManyRequests)
            // The window passes (the test clock, no sleep): the attacker may try again.
            clock.advance(by: 900)
            #expect(try await Self.login(client, from: "203.0.113.66", email: "victim@example.com", password: "guess-guess").status == .unauthorized)
        }
    }
}
