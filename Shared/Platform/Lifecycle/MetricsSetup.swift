import Foundation
import Metrics
import Prometheus

/// Bootstraps swift-metrics with a Prometheus registry once per process; `/metrics` renders it.
package enum MetricsSetup {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var registry: PrometheusCollectorRegistry?

    /// The process's registry, bootstrapping the metrics system on first use.
    package static func bootstrap() -> PrometheusCollectorRegistry {
        lock.withLock {
            if let registry { return registry }
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.defaultDurationHistogramBuckets = [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
            ]
            MetricsSystem.bootstrap(factory)
            self.registry = registry
            return registry
        }
    }

    package static func render() -> String {
        var buffer: [UInt8] = []
        bootstrap().emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
