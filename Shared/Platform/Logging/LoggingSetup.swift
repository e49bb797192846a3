import Foundation
import Logging

/// Sets up swift-log once per process: JSON lines in production, human-readable lines elsewhere.
package enum LoggingSetup {
    private static let once = NSLock()
    nonisolated(unsafe) private static var done = false

    package static func bootstrap(environment: DeploymentEnvironment, level: Logger.Level) {
        once.withLock {
            guard !done else { return }
            done = true
            if environment.isProduction {
                LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
            } else {
                LoggingSystem.bootstrap { DevelopmentLogHandler(label: $0, level: level) }
            }
        }
    }
}
