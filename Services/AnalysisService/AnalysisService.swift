import ECGPlatform
import Foundation
import Hummingbird

/// analysis-service: analysis jobs, their state machine, progress and results.
enum AnalysisService {
    static let descriptor = ServiceDescriptor(
        name: "analysis-service",
        schema: "analysis",
        migrationsDirectory: Bundle.module.url(forResource: "Migrations", withExtension: nil),
        usesMessaging: true
    )

    static func makeRuntime(settings: EnvironmentSettings) async throws -> ServiceRuntime {
        let configuration = ServiceConfiguration(serviceName: descriptor.name, schema: descriptor.schema, settings: settings)
        try settings.validate()
        return try await ServiceRuntime(descriptor: descriptor, configuration: configuration)
    }

    static func buildApplication(runtime: ServiceRuntime) async throws -> some ApplicationProtocol {
        try ServiceApplication.build(runtime: runtime, services: [runtime.makeOutboxRelay()]) { _ in }
    }
}
