import Crypto
import Foundation
import HummingbirdBcrypt
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// bcrypt at `BCRYPT_COST`, run on its own thread pool (`makeThreadPool()`), never on an event
/// loop or the cooperative pool, at a lower CPU priority than request handling: a login storm
/// gets whatever CPU is idle, up to every core, and a `/me` arriving meanwhile preempts it.
///
/// bcrypt reads only the first 72 bytes of its input. So that no password is silently truncated,
/// the password's UTF-8 bytes are first hashed with SHA-256 and base64-encoded (44 ASCII characters),
/// and that string is what bcrypt hashes: every byte of a 128-character password counts.
struct PasswordHasher: Sendable {
    let cost: Int
    private let threadPool: NIOThreadPool
    /// A hash of a random password at the same cost, checked when the email is unknown so that
    /// unknown and known emails take the same time.
    private let dummyHash: String

    /// Niceness of the hashing threads (0 is normal, 19 the lowest). At 10 a busy hashing thread
    /// gets about a tenth of a core that request handling also wants (CFS weights 110 vs 1024).
    static let hashingNiceness: Int32 = 10

    /// One thread per core, each lowering its own priority before it hashes.
    static func makeThreadPool(threads: Int = System.coreCount) -> NIOThreadPool {
        let pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        return pool
    }

    init(cost: Int, threadPool: NIOThreadPool) async throws {
        precondition((4...31).contains(cost), "bcrypt cost must be 4...31")
        self.cost = cost
        self.threadPool = threadPool
        let random = UUID().uuidString
        self.dummyHash = try await Self.run(on: threadPool) { Bcrypt.hash(Self.prehash(random), cost: UInt8(cost)) }
    }

    /// The bcrypt hash (`$2b$<cost>$…`) of the password's pre-hash.
    func hash(_ password: String) async throws -> String {
        let cost = UInt8(self.cost)
        let input = Self.prehash(password)
        return try await Self.run(on: threadPool) { Bcrypt.hash(input, cost: cost) }
    }

    /// Checks a password against a stored hash, or, when there is none (unknown email, Google-only
    /// account), against the dummy hash, and then answers false: the same work either way.
    func verify(_ password: String, against storedHash: String?) async throws -> Bool {
        let input = Self.prehash(password)
        let hash = storedHash ?? dummyHash
        let matches = try await Self.run(on: threadPool) { Bcrypt.verify(input, hash: hash) }
        return matches && storedHash != nil
    }

    private static func run<T: Sendable>(on pool: NIOThreadPool, _ work: @escaping @Sendable () -> T) async throws -> T {
        try await pool.runIfActive {
            // Linux keeps the nice value per thread; `who == 0` is the calling thread. Lowering
            // needs no privilege and is idempotent, so every job does it on whichever thread runs it.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, hashingNiceness)
            return work()
        }
    }

    /// base64(SHA-256(UTF-8 password)): 44 bytes, no NUL, under bcrypt's 72-byte limit.
    static func prehash(_ password: String) -> String {
        Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }
}
