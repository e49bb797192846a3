import Foundation
import HummingbirdBcrypt
import NIOPosix
import Testing

@testable import AuthService

@Suite("Password hashing")
struct PasswordHasherTests {
    @Test("a hash verifies its password and no other")
    func roundTrip() async throws {
        let hasher = try await PasswordHasher(cost: 4)
        let hash = try await hasher.hash("correct horse battery")
        #expect(hash.hasPrefix("$2b$04$"))
        #expect(try await hasher.verify("correct horse battery", against: hash))
        #expect(try await !hasher.verify("correct horse batterY", against: hash))
    }

    @Test("passwords longer than bcrypt's 72 bytes are not truncated")
    func noTruncation() async throws {
        let hasher = try await PasswordHasher(cost: 4)
        // 30 Korean syllables are 90 bytes of UTF-8; these two share their first 87 bytes.
        let password = String(repeating: "가", count: 29) + "나"
        let other = String(repeating: "가", count: 29) + "다"
        #expect(password.utf8.count > 72)
        let hash = try await hasher.hash(password)
        #expect(try await hasher.verify(password, against: hash))
        #expect(try await !hasher.verify(other, against: hash))
        // Plain bcrypt would have accepted the other one: that is the bug the pre-hash prevents.
        #expect(Bcrypt.verify(other, hash: Bcrypt.hash(password, cost: 4)))
    }

    @Test("the pre-hash is 44 ASCII bytes: base64 of SHA-256")
    func prehash() {
        // SHA-256("password") = 5e884898…d1542d8
        #expect(PasswordHasher.prehash("password") == "XohImNooBHFR0OVvjcYpJ3NgPQ1qq73WKhHvch0VQtg=")
        #expect(PasswordHasher.prehash(String(repeating: "x", count: 128)).utf8.count == 44)
    }

    @Test("no stored hash (unknown email, Google-only account) never verifies, after the same work")
    func dummyVerify() async throws {
        let hasher = try await PasswordHasher(cost: 4)
        #expect(try await !hasher.verify("anything", against: nil))
        #expect(try await !hasher.verify("anything", against: "not a bcrypt hash"))
    }

    @Test("hashing runs on its own thread pool: a burst of hashes leaves the cooperative pool free")
    func offTheCooperativePool() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let hasher = try await PasswordHasher(cost: 8, threadPool: pool)
        let clock = ContinuousClock()
        let start = clock.now
        let ping = try await withThrowingTaskGroup(of: Void.self) { group in
            // Many more hashes than this machine has cooperative threads; on the pool they queue one by one.
            for _ in 0..<(ProcessInfo.processInfo.activeProcessorCount * 6 + 2) {
                group.addTask { _ = try await hasher.hash("burst-password") }
            }
            try await Task.sleep(for: .milliseconds(20))
            // If bcrypt ran on the cooperative pool, this task would start only after most of the burst.
            let ping = await Task.detached { clock.now }.value
            try await group.waitForAll()
            return ping
        }
        let burst = clock.now - start
        #expect((ping - start) * 2 < burst, "ping after \(ping - start), burst took \(burst)")
        try await pool.shutdownGracefully()
    }

    @Test("one bcrypt hash at cost 12 (printed for the README)")
    func costTwelveTiming() async throws {
        let hasher = try await PasswordHasher(cost: 12)
        let clock = ContinuousClock()
        var durations: [Duration] = []
        for _ in 0..<3 {
            let start = clock.now
            _ = try await hasher.hash("testpassword123")
            durations.append(clock.now - start)
        }
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        print(
            "bcrypt cost 12, \(build) build: \(durations.map { "\($0.components.attoseconds / 1_000_000_000_000_000 + $0.components.seconds * 1000) ms" })"
        )
        #expect(durations.allSatisfy { $0 < .seconds(30) })
    }
}
