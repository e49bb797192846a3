import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import ECGPlatform

/// Background services start only once the schema exists (`ServiceApplication.build`).
@Suite("background services after the migrations")
struct AfterMigrationsTests {
    /// A service that records that it ran and then waits for the shutdown.
    final class Recorder: Service, Sendable {
        private let ran = Atomic<Bool>(false)
        var hasRun: Bool { ran.load(ordering: .acquiring) }

        func run() async throws {
            ran.store(true, ordering: .releasing)
            try? await gracefulShutdown()
        }
    }

    private func group(running service: some Service) -> ServiceGroup {
        ServiceGroup(configuration: .init(services: [service], logger: Logger(label: "after-migrations-test")))
    }

    @Test("the service does not run before the gate opens, and runs once it does")
    func waitsForTheGate() async throws {
        let gate = MigrationGate()
        let recorder = Recorder()
        let group = group(running: AfterMigrations(recorder, gate: gate, pollInterval: .milliseconds(1)))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Task.sleep(for: .milliseconds(100))
            #expect(!recorder.hasRun)
            gate.open()
            for _ in 0..<400 where !recorder.hasRun { try await Task.sleep(for: .milliseconds(5)) }
            #expect(recorder.hasRun)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test("a shutdown before the gate opens ends the wrapper without running the service")
    func shutdownBeforeTheGate() async throws {
        let recorder = Recorder()
        let group = group(running: AfterMigrations(recorder, gate: MigrationGate(), pollInterval: .milliseconds(1)))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Task.sleep(for: .milliseconds(50))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(!recorder.hasRun)
    }
}
