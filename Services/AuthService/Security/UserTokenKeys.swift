import ECGPlatform
import ECGTokens

/// The Ed25519 keys of user access tokens: `current` signs; every key, `previous` included, is
/// published at `/.well-known/jwks.json` and accepted, so that tokens signed before a rotation stay
/// valid until they expire.
struct UserTokenKeys: Sendable {
    let current: SigningKey
    let previous: [SigningKey]

    var all: [SigningKey] { [current] + previous }

    /// `USER_TOKEN_SIGNING_KEY`, or outside production `$KEYS_DIR/auth-service.user.pem` (created when
    /// missing); `USER_TOKEN_PREVIOUS_KEYS` for the retired ones.
    static func load(settings: AuthSettings, configuration: ServiceConfiguration) throws(ConfigurationError) -> UserTokenKeys {
        let current: SigningKey
        do {
            current = try SigningKeyStore.load(
                pem: settings.userTokenSigningKeyPEM,
                fileName: AuthSettings.Defaults.userKeyFileName,
                directory: configuration.keysDirectory,
                mayGenerate: !configuration.environment.isProduction
            )
        } catch {
            throw ConfigurationError(problems: ["USER_TOKEN_SIGNING_KEY: \(error)"])
        }
        var previous: [SigningKey] = []
        var problems: [String] = []
        for (index, pem) in settings.previousUserTokenKeyPEMs.enumerated() {
            do {
                let key = try SigningKey(pem: pem)
                if key.kid != current.kid, !previous.contains(where: { $0.kid == key.kid }) { previous.append(key) }
            } catch {
                problems.append("USER_TOKEN_PREVIOUS_KEYS: key \(index + 1) is \(error)")
            }
        }
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
        return UserTokenKeys(current: current, previous: previous)
    }
}
