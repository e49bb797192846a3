import ArgumentParser
import ECGPlatform

@main
struct MediaServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "media-service",
        abstract: "ECG video records and S3 presigned upload/download.",
        subcommands: [Serve.self, Migrate.self, PrintSettings.self],
        defaultSubcommand: Serve.self
    )

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Migrate the media schema, then serve HTTP (default).")
        func run() async throws {
            try await ServiceMain.serve { settings in
                let (runtime, media) = try await MediaService.makeRuntime(settings: settings)
                return (try await MediaService.buildApplication(runtime: runtime, settings: media), runtime.logger)
            }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply the media schema's migrations and exit.")
        func run() async throws {
            try await ServiceMain.migrate { settings in try await MediaService.makeRuntime(settings: settings).0 }
        }
    }
}
