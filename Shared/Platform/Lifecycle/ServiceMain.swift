import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The `serve` and `migrate` subcommands every service executable shares.
package enum ServiceMain {
    /// Builds and runs the service until SIGTERM. A configuration problem is printed (every bad
    /// variable named) and ends the process with exit code 78 (EX_CONFIG).
    package static func serve(build: (EnvironmentSettings) async throws -> (any ApplicationProtocol & Service, Logger)) async throws {
        do {
            let settings = EnvironmentSettings()
            let tasksOnEventLoops = EventLoopTasks.enabled(settings)
            let installed = tasksOnEventLoops && EventLoopTasks.install()
            bootstrapObservability(settings)
            let (app, logger) = try await build(settings)
            if tasksOnEventLoops, !installed {
                logger.warning("\(EventLoopTasks.settingName) is on, but this Swift runtime refused the hook: tasks run on Swift's global executor")
            } else {
                logger.info("Swift tasks run on \(installed ? "SwiftNIO's event loops" : "Swift's global executor") (\(EventLoopTasks.settingName)=\(tasksOnEventLoops))")
            }
            try await ServiceApplication.run(app, logger: logger)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(78)
        }
    }

    /// Applies the service's migrations and exits.
    package static func migrate(runtime makeRuntime: (EnvironmentSettings) async throws -> ServiceRuntime) async throws {
        do {
            let settings = EnvironmentSettings()
            bootstrapObservability(settings)
            let runtime = try await makeRuntime(settings)
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
    /// The process-wide logging and metrics systems, set once by the entry point before anything logs
    /// (a `Logger` made earlier keeps the default handler). `LOG_LEVEL` is read again, leniently, by
    /// `ServiceConfiguration`, which reports a bad value.
    package static func bootstrapObservability(_ settings: EnvironmentSettings, level: Logger.Level? = nil) {
        let defaultLevel: Logger.Level = settings.environment.isProduction ? .info : .debug
        let configured = settings.optional("LOG_LEVEL").flatMap { Logger.Level(rawValue: $0.lowercased()) }
        LoggingSetup.bootstrap(environment: settings.environment, level: level ?? configured ?? defaultLevel)
        _ = MetricsSetup.bootstrap()
    }

    /// Runs background services without HTTP (the reference worker) until SIGTERM.
    /// The services are shut down in reverse order: list producers after the consumers that use them.
    /// - Parameter gracefulShutdown: how long the services may take to stop after SIGTERM before they
    ///   are cancelled (a worker finishes the job in hand within it).
    package static func runWorker<Settings>(
        gracefulShutdown: Duration = .seconds(8),
        configure: (EnvironmentSettings) throws -> Settings,
        build: (Settings, Logger) async throws -> [any Service]
    ) async throws {
        do {
            let environment = EnvironmentSettings()
            let settings = try configure(environment)
            bootstrapObservability(environment, level: environment.environment.isProduction ? .info : .debug)
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
