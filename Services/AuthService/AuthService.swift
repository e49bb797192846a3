import ECGPlatform
import Foundation
import Hummingbird

/// auth-service: users, passwords, sessions, Google sign-in and the user-token signing key.
enum AuthService {
    static let descriptor = ServiceDescriptor(
        name: "auth-service",
        schema: "auth",
        migrationsDirectory: Bundle.module.url(forResource: "Migrations", withExtension: nil)
    )

    static func makeRuntime(settings: EnvironmentSettings) async throws -> ServiceRuntime {
        let configuration = ServiceConfiguration(serviceName: descriptor.name, schema: descriptor.schema, settings: settings)
        try settings.validate()
        return try await ServiceRuntime(descriptor: descriptor, configuration: configuration)
    }

    static func buildApplication(runtime: ServiceRuntime) async throws -> some ApplicationProtocol {
        try ServiceApplication.build(runtime: runtime) { _ in }
    }
}
