import Crypto
import Foundation
import HummingbirdBcrypt
import NIOPosix

/// bcrypt at `BCRYPT_COST`, run on NIO's blocking thread pool, never on an event loop or the
/// cooperative pool, so a burst of logins does not stall other requests.
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

    init(cost: Int, threadPool: NIOThreadPool = .singleton) async throws {
        precondition((4...31).contains(cost), "bcrypt cost must be 4...31")
        self.cost = cost
        self.threadPool = threadPool
        let random = UUID().uuidString
        self.dummyHash = try await threadPool.runIfActive { Bcrypt.hash(Self.prehash(random), cost: UInt8(cost)) }
    }

    /// The bcrypt hash (`$2b$<cost>$…`) of the password's pre-hash.
    func hash(_ password: String) async throws -> String {
        let cost = UInt8(self.cost)
        let input = Self.prehash(password)
        return try await threadPool.runIfActive { Bcrypt.hash(input, cost: cost) }
    }

    /// Checks a password against a stored hash, or, when there is none (unknown email, Google-only
    /// account), against the dummy hash, and then answers false: the same work either way.
    func verify(_ password: String, against storedHash: String?) async throws -> Bool {
        let input = Self.prehash(password)
        let hash = storedHash ?? dummyHash
        let matches = try await threadPool.runIfActive { Bcrypt.verify(input, hash: hash) }
        return matches && storedHash != nil
    }

    /// base64(SHA-256(UTF-8 password)): 44 bytes, no NUL, under bcrypt's 72-byte limit.
    static func prehash(_ password: String) -> String {
        Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }
}
