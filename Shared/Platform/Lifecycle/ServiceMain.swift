import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The `serve` and `migrate` subcommands every service executable shares.
public enum ServiceMain {
    /// Builds and runs the service until SIGTERM. A configuration problem is printed (every bad
    /// variable named) and ends the process with exit code 78 (EX_CONFIG).
    public static func serve(build: (EnvironmentSettings) async throws -> (any ApplicationProtocol & Service, Logger)) async throws {
        do {
            let (app, logger) = try await build(EnvironmentSettings())
            try await ServiceApplication.run(app, logger: logger)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(78)
        }
    }

    /// Applies the service's migrations and exits.
    public static func migrate(runtime makeRuntime: (EnvironmentSettings) async throws -> ServiceRuntime) async throws {
        do {
            let runtime = try await makeRuntime(EnvironmentSettings())
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await runtime.postgres.run() }
                try await runtime.migrate()
                group.cancelAll()
            }
            await runtime.kafka.shutdown()
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}

extension ServiceMain {
    /// Runs background services without HTTP (the reference worker) until SIGTERM.
    /// The services are shut down in reverse order: list producers after the consumers that use them.
    /// - Parameter gracefulShutdown: how long the services may take to stop after SIGTERM before they
    ///   are cancelled (a worker finishes the job in hand within it).
    public static func runWorker<Settings>(
        gracefulShutdown: Duration = .seconds(8),
        configure: (EnvironmentSettings) throws -> Settings,
        build: (Settings, Logger) async throws -> [any Service]
    ) async throws {
        do {
            let environment = EnvironmentSettings()
            let settings = try configure(environment)
            LoggingSetup.bootstrap(environment: environment.environment, level: environment.environment.isProduction ? .info : .debug)
            _ = MetricsSetup.bootstrap()
            let logger = Logger(label: "ecg-reference-worker")
            let services = try await build(settings, logger)
            var configuration = ServiceGroupConfiguration(
                services: services.reversed(),
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
            configuration.maximumGracefulShutdownDuration = gracefulShutdown
            try await ServiceGroup(configuration: configuration).run()
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}
