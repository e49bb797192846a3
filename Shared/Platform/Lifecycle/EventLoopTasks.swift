import NIOCore
import NIOPosix

/// Where the services' Swift tasks run (`TASKS_ON_EVENT_LOOPS`, default on; issue 13).
///
/// Hummingbird reads and writes sockets on SwiftNIO's event loops, and PostgresNIO's connections live
/// there too, while request handlers are Swift tasks, which by default run on Swift's global executor,
/// a second pool of threads. Every request then crosses between the two pools several times, each
/// crossing a wake-up (`eventfd` write) and a task switch. With this setting on, NIO's singleton event
/// loop group (the one Hummingbird and PostgresNIO use) becomes Swift's global executor, so a handler
/// runs on the thread that owns its connection. Measured on 2 cores (release, alternating runs):
/// media-service's CPU per generate-url 285–293 → 205–215 µs, auth-service's per `/me`
/// 117–143 → 88 µs (docs/performance.md).
///
/// The rule it brings: nothing that blocks a thread may run in a task, or it stalls every connection
/// of that loop. The services keep it: bcrypt runs on its own `NIOThreadPool` (`PasswordHasher`),
/// librdkafka's blocking calls on each client's dispatch queue (`RDKafkaClient`), log lines are
/// written by `LogLineWriter`'s own thread. The caption worker (PocketSphinx decoding for seconds)
/// does not use this.
package enum EventLoopTasks {
    package static let settingName = "TASKS_ON_EVENT_LOOPS"

    /// The setting: on unless `TASKS_ON_EVENT_LOOPS=false`.
    package static func enabled(_ settings: EnvironmentSettings) -> Bool {
        settings.bool(settingName, default: true)
    }

    /// Makes NIO's singleton event loop group Swift's global executor. Must run once, before the
    /// service starts any task of its own; false when this runtime does not allow it (then tasks stay
    /// on Swift's own pool, which is slower but correct).
    package static func install() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
