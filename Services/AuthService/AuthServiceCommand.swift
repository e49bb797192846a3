import ArgumentParser
import ECGPlatform

@main
struct AuthServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth-service",
        abstract: "ECG accounts, sessions and Google sign-in.",
        subcommands: [Serve.self, Migrate.self, PrintSettings.self],
        defaultSubcommand: Serve.self
    )

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Migrate the auth schema, then serve HTTP (default).")
        func run() async throws {
            try await ServiceMain.serve { settings in
                let runtime = try await AuthService.makeRuntime(settings: settings)
                return (try await AuthService.buildApplication(runtime: runtime), runtime.shared.logger)
            }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply the auth schema's migrations and exit.")
        func run() async throws {
            try await ServiceMain.migrate { settings in try await AuthService.makeRuntime(settings: settings).shared }
        }
    }
}
