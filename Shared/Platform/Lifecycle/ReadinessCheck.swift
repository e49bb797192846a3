import ECGKafka
import Logging
import PostgresNIO

/// What `/ready` checks: each dependency answers within a short deadline, or is named as down.
package struct ReadinessCheck: Sendable {
    package let name: String
    package let probe: @Sendable () async throws -> Void

    package init(name: String, probe: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.probe = probe
    }

    package static func postgres(_ client: PostgresClient, logger: Logger) -> ReadinessCheck {
        ReadinessCheck(name: "postgres") {
            try await client.query("SELECT 1", logger: logger)
        }
    }

    package static func kafka(_ producer: KafkaProducer) -> ReadinessCheck {
        ReadinessCheck(name: "kafka") { try await producer.checkBrokers() }
    }

    /// The names of the checks that failed or did not answer within `timeout`.
    package static func failing(_ checks: [ReadinessCheck], timeout: Duration = .seconds(2)) async -> [String] {
        await withTaskGroup(of: String?.self) { group in
            for check in checks {
                group.addTask {
                    let passed = await withTaskGroup(of: Bool.self) { race in
                        race.addTask { (try? await check.probe()) != nil }
                        race.addTask {
                            try? await Task.sleep(for: timeout)
                            return false
                        }
                        let first = await race.next() ?? false
                        race.cancelAll()
                        return first
                    }
                    return passed ? nil : check.name
                }
            }
            var failing: [String] = []
            for await name in group {
                if let name { failing.append(name) }
            }
            return failing.sorted()
        }
    }
}
