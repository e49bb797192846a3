import Foundation

/// Loads a signing key from PEM text, or in development and test from (or into) a file under the keys directory.
package enum SigningKeyStore {
    /// - Parameters:
    ///   - pem: the configured PEM (`SERVICE_SIGNING_KEY`, `USER_TOKEN_SIGNING_KEY`), which wins when set.
    ///   - fileName: the development key file, e.g. `auth-service.service.pem`.
    ///   - directory: `.data/keys` by default (`KEYS_DIR`).
    ///   - mayGenerate: false in production, where a missing key is a configuration error.
    package static func load(pem: String?, fileName: String, directory: String, mayGenerate: Bool) throws -> SigningKey {
        if let pem, !pem.isEmpty {
            return try SigningKey(pem: pem)
        }
        guard mayGenerate else { throw TokenError.invalidKey("no key configured") }
        let url = URL(fileURLWithPath: directory).appendingPathComponent(fileName)
        if let existing = try? String(contentsOf: url, encoding: .utf8) {
            return try SigningKey(pem: existing)
        }
        let key = try SigningKey.generate()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Write to a temporary file, then link it into place: two processes starting at once agree on one key.
        let temporary = url.appendingPathExtension("\(ProcessInfo.processInfo.processIdentifier).tmp")
        FileManager.default.createFile(atPath: temporary.path, contents: Data(key.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600])
        defer { try? FileManager.default.removeItem(at: temporary) }
        if link(temporary.path, url.path) != 0 {
            return try SigningKey(pem: String(contentsOf: url, encoding: .utf8))
        }
        return key
    }
}
