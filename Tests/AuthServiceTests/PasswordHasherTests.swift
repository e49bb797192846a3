import Foundation
import HummingbirdBcrypt
import NIOPosix
import Synchronization
import Testing

@testable import AuthService

#if canImport(Glibc)
import Glibc
#endif

@Suite("Password hashing")
struct PasswordHasherTests {
    @Test("a hash verifies its password and no other")
    func roundTrip() async throws {
        let hasher = try await PasswordHasher.forTests()
        let hash = try await hasher.hash("correct horse battery")
        #expect(hash.hasPrefix("$2b$04$"))
        #expect(try await hasher.verify("correct horse battery", against: hash))
        #expect(try await !hasher.verify("correct horse batterY", against: hash))
    }

    @Test("passwords longer than bcrypt's 72 bytes are not truncated")
    func noTruncation() async throws {
        let hasher = try await PasswordHasher.forTests()
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

    @Test("hashing threads run at a lower CPU priority than the threads that answer requests")
    func hashingIsNiced() async throws {
        let pool = PasswordHasher.makeThreadPool(threads: 1)
        let hasher = try await PasswordHasher(cost: 4, threadPool: pool)
        _ = try await hasher.hash("any password")
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        let poolNiceness = try await pool.runIfActive { getpriority(which, 0) }
        #expect(poolNiceness == PasswordHasher.hashingNiceness)
        #expect(getpriority(which, 0) < PasswordHasher.hashingNiceness, "the caller's thread was lowered too")
        try await pool.shutdownGracefully()
    }

    @Test("no stored hash (unknown email, Google-only account) never verifies, after the same work")
    func dummyVerify() async throws {
        let hasher = try await PasswordHasher.forTests()
        #expect(try await !hasher.verify("anything", against: nil))
        #expect(try await !hasher.verify("anything", against: "not a bcrypt hash"))
    }

    /// Runs `work` with the hasher's only pool thread blocked; returns whether `work` finished
    /// while blocked (it must not, if it runs bcrypt on the pool) and its result once unblocked.
    private func whilePoolIsBlocked<T: Sendable>(
        _ work: @escaping @Sendable (PasswordHasher) async throws -> T
    ) async throws -> (
        finishedWhileBlocked: Bool, result: T
    ) {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let hasher = try await PasswordHasher(cost: 4, threadPool: pool)
        let gate = DispatchSemaphore(value: 0)
        let blocker = Task { try await pool.runIfActive { gate.wait() } }
        let finished = FinishedFlag()
        let task = Task {
            let value = try await work(hasher)
            finished.flag.store(true, ordering: .releasing)
            return value
        }
        try await Task.sleep(for: .milliseconds(300))
        let finishedWhileBlocked = finished.flag.load(ordering: .acquiring)
        gate.signal()
        _ = try await blocker.value
        let result = try await task.value
        try await pool.shutdownGracefully()
        return (finishedWhileBlocked, result)
    }

    @Test("hashing runs on the hasher's own thread pool, not on the caller's thread")
    func offTheCooperativePool() async throws {
        let (finishedWhileBlocked, hash) = try await whilePoolIsBlocked { try await $0.hash("queued-password") }
        #expect(!finishedWhileBlocked, "the hash completed while the pool's only thread was blocked: it did not run on the pool")
        #expect(hash.hasPrefix("$2"))
    }

    @Test("no stored hash (unknown email) waits for the hashing pool like a real check, so it takes a bcrypt's time")
    func unknownEmailDoesBcryptWork() async throws {
        let (finishedWhileBlocked, matches) = try await whilePoolIsBlocked { try await $0.verify("anything", against: nil) }
        #expect(!finishedWhileBlocked, "an unknown email was answered without running bcrypt on the pool")
        #expect(matches == false)
    }
}

private final class FinishedFlag: Sendable {
    let flag = Atomic<Bool>(false)
}
