import ArgumentParser
import ECGPlatform
import Foundation

@main
struct AnalysisServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analysis-service",
        abstract: "ECG analysis jobs, their state machine, progress and results.",
        subcommands: [Serve.self, Migrate.self, PrintSettings.self],
        defaultSubcommand: Serve.self
    )

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Migrate the analysis schema, then serve HTTP (default).")
        func run() async throws {
            try await ServiceMain.serve { settings in
                let (runtime, analysis) = try await AnalysisService.makeRuntime(settings: settings)
                return (try await AnalysisService.buildApplication(runtime: runtime, settings: analysis), runtime.logger)
            }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply the analysis schema's migrations and exit.")
        func run() async throws {
            try await ServiceMain.migrate { settings in try await AnalysisService.makeRuntime(settings: settings).0 }
        }
    }
}
