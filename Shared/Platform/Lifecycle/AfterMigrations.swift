import ServiceLifecycle
import Synchronization

/// Opens once the service's migrations have been applied (`ServiceApplication.build`).
package final class MigrationGate: Sendable {
    private let opened = Atomic<Bool>(false)

    package init() {}

    package func open() { opened.store(true, ordering: .releasing) }

    package var isOpen: Bool { opened.load(ordering: .acquiring) }
}

/// Runs a background service (outbox relay, consumer, sweeper, pruner) once the schema's migrations
/// have been applied. They start together with the server, whose prelude applies the migrations, so
/// on a new database their first rounds used to fail against tables that did not exist yet (three or
/// four warnings per service on every first start). A shutdown before the gate opens ends the
/// wrapper without running the service.
package struct AfterMigrations: Service {
    let gate: MigrationGate
    let service: any Service
    let pollInterval: Duration

    package init(_ service: any Service, gate: MigrationGate, pollInterval: Duration = .milliseconds(10)) {
        self.service = service
        self.gate = gate
        self.pollInterval = pollInterval
    }

    package func run() async throws {
        let opened: Bool = await cancelWhenGracefulShutdown {
            while !gate.isOpen {
                guard (try? await Task.sleep(for: pollInterval)) != nil else { return false }
            }
            return true
        }
        guard opened else { return }
        try await service.run()
    }
}
