import ECGPlatform
import ECGTokens
import Foundation
import Testing

@testable import AuthService

@Suite("auth-service configuration (SPEC.md §6)")
struct AuthSettingsTests {
    static let productionBase: [String: String] = [
        "ECG_ENV": "production", "DATABASE_URL": "postgres://auth:pw@db.internal:5432/ecg", "KAFKA_BROKERS": "kafka.internal:9092",
        "TRUSTED_SERVICES": "auth-service=http://auth:8081/.well-known/jwks.json",
    ]

    @Test("defaults outside production: 900 s, 30 days, cost 12, Secure cookies, Google off")
    func defaults() {
        let settings = EnvironmentSettings(environment: ["ECG_ENV": "development"])
        let auth = AuthSettings(settings: settings)
        #expect(settings.problems.isEmpty)
        #expect(auth.accessTokenTTL == 900)
        #expect(auth.refreshTokenTTL == 2_592_000)
        #expect(auth.bcryptCost == 12)
        #expect(auth.cookieSecure)
        #expect(auth.frontendURL == "http://localhost:3000")
        #expect(auth.google == nil)
        #expect(auth.userTokenSigningKeyPEM == nil)
        #expect(auth.seedsDevelopmentData)
        #expect(!AuthSettings(settings: EnvironmentSettings(environment: ["ECG_ENV": "test"])).seedsDevelopmentData)
    }

    @Test("Google, once configured, defaults to Google's real endpoints")
    func googleDefaults() {
        let settings = EnvironmentSettings(environment: ["ECG_ENV": "test", "GOOGLE_CLIENT_ID": "id", "GOOGLE_CLIENT_SECRET": "secret"])
        let google = AuthSettings(settings: settings).google
        #expect(settings.problems.isEmpty)
        #expect(google?.authURL == "https://accounts.google.com/o/oauth2/v2/auth")
        #expect(google?.tokenURL == "https://oauth2.googleapis.com/token")
        #expect(google?.jwksURL == "https://www.googleapis.com/oauth2/v3/certs")
        #expect(google?.issuer == "https://accounts.google.com")
    }

    @Test("http Google endpoints are fine in test, refused in production")
    func googleHTTPS() {
        var variables = ["GOOGLE_CLIENT_ID": "id", "GOOGLE_CLIENT_SECRET": "secret", "GOOGLE_TOKEN_URL": "http://127.0.0.1:9999/token"]
        variables["ECG_ENV"] = "test"
        let test = EnvironmentSettings(environment: variables)
        #expect(AuthSettings(settings: test).google?.tokenURL == "http://127.0.0.1:9999/token")
        #expect(test.problems.isEmpty)

        let production = EnvironmentSettings(
            environment: Self.productionBase.merging(variables.merging(["ECG_ENV": "production"]) { $1 }) { $1 }
        )
        _ = AuthSettings(settings: production)
        #expect(production.problems.contains { $0.contains("GOOGLE_TOKEN_URL must use https") })
        #expect(production.problems.contains { $0.contains("GOOGLE_REDIRECT_URI is required") })
    }

    @Test("production refuses a missing user key, COOKIE_SECURE=false, a low bcrypt cost and a missing FRONTEND_URL")
    func productionRefusals() {
        let settings = EnvironmentSettings(environment: Self.productionBase.merging(["COOKIE_SECURE": "false", "BCRYPT_COST": "8"]) { $1 })
        _ = AuthSettings(settings: settings)
        for variable in ["USER_TOKEN_SIGNING_KEY", "COOKIE_SECURE", "BCRYPT_COST", "FRONTEND_URL"] {
            #expect(settings.problems.contains { $0.hasPrefix(variable) }, "\(variable) in \(settings.problems)")
        }
    }

    @Test("half a Google client, bad numbers and a bad FRONTEND_URL are reported")
    func badValues() {
        let settings = EnvironmentSettings(
            environment: [
                "ECG_ENV": "test", "GOOGLE_CLIENT_ID": "id", "BCRYPT_COST": "40", "ACCESS_TOKEN_TTL_SECONDS": "soon", "FRONTEND_URL": "localhost",
            ])
        _ = AuthSettings(settings: settings)
        for variable in ["GOOGLE_CLIENT_ID", "BCRYPT_COST", "ACCESS_TOKEN_TTL_SECONDS", "FRONTEND_URL"] {
            #expect(settings.problems.contains { $0.hasPrefix(variable) }, "\(variable) in \(settings.problems)")
        }
    }

    @Test("an access-token lifetime over an hour is refused: every verifier would refuse such tokens")
    func accessTokenLifetime() {
        let long = EnvironmentSettings(environment: ["ECG_ENV": "test", "ACCESS_TOKEN_TTL_SECONDS": "7200"])
        _ = AuthSettings(settings: long)
        #expect(long.problems.contains { $0.hasPrefix("ACCESS_TOKEN_TTL_SECONDS") }, "\(long.problems)")
        let hour = EnvironmentSettings(environment: ["ECG_ENV": "test", "ACCESS_TOKEN_TTL_SECONDS": "3600"])
        _ = AuthSettings(settings: hour)
        #expect(!hour.problems.contains { $0.hasPrefix("ACCESS_TOKEN_TTL_SECONDS") })
    }

    @Test("USER_TOKEN_PREVIOUS_KEYS: concatenated PEM blocks, newlines may be written as \\n")
    func previousKeys() throws {
        let one = try SigningKey.generate()
        let two = try SigningKey.generate()
        let current = try SigningKey.generate()
        let escaped = (one.pemRepresentation + two.pemRepresentation).replacingOccurrences(of: "\n", with: "\\n")
        let settings = EnvironmentSettings(
            environment: ["ECG_ENV": "test", "USER_TOKEN_SIGNING_KEY": current.pemRepresentation, "USER_TOKEN_PREVIOUS_KEYS": escaped])
        let auth = AuthSettings(settings: settings)
        #expect(auth.previousUserTokenKeyPEMs.count == 2)
        let configuration = ServiceConfiguration(serviceName: "auth-service", schema: "auth", settings: settings)
        let keys = try UserTokenKeys.load(settings: auth, configuration: configuration)
        #expect(keys.current.kid == current.kid)
        #expect(keys.previous.map(\.kid) == [one.kid, two.kid])
    }

    @Test("outside production the user key is generated once into KEYS_DIR as auth-service.user.pem")
    func developmentKeyFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-auth-keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let settings = EnvironmentSettings(environment: ["ECG_ENV": "test", "KEYS_DIR": directory])
        let configuration = ServiceConfiguration(serviceName: "auth-service", schema: "auth", settings: settings)
        let auth = AuthSettings(settings: settings)
        let first = try UserTokenKeys.load(settings: auth, configuration: configuration)
        let second = try UserTokenKeys.load(settings: auth, configuration: configuration)
        #expect(first.current.kid == second.current.kid)
        #expect(FileManager.default.fileExists(atPath: "\(directory)/auth-service.user.pem"))
    }

    @Test("the user key must not be the service key")
    func distinctKeys() throws {
        let key = try SigningKey.generate()
        let settings = EnvironmentSettings(
            environment: ["ECG_ENV": "test", "USER_TOKEN_SIGNING_KEY": key.pemRepresentation, "SERVICE_SIGNING_KEY": key.pemRepresentation])
        _ = AuthSettings(settings: settings)
        #expect(settings.problems.contains { $0.hasPrefix("USER_TOKEN_SIGNING_KEY must differ") })
    }
}
