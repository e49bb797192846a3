import CRDKafka
import Foundation
import Logging

/// What librdkafka's callbacks reach through the handle's opaque pointer.
final class RDKafkaCallbackContext: Sendable {
    let logger: Logger
    /// Called from `rd_kafka_poll` with the message id given to `produce` and its outcome.
    let onDelivery: (@Sendable (UInt, Result<KafkaDeliveryReport, KafkaError>) -> Void)?

    init(logger: Logger, onDelivery: (@Sendable (UInt, Result<KafkaDeliveryReport, KafkaError>) -> Void)? = nil) {
        self.logger = logger
        self.onDelivery = onDelivery
    }

    static func from(_ handle: OpaquePointer?) -> RDKafkaCallbackContext? {
        guard let handle, let opaque = rd_kafka_opaque(handle) else { return nil }
        return Unmanaged<RDKafkaCallbackContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

/// Owns one `rd_kafka_t` handle and its callback context. Every call that blocks runs on `queue`,
/// a dedicated serial dispatch queue, never on Swift's cooperative thread pool.
final class RDKafkaClient: @unchecked Sendable {
    enum Kind { case producer, consumer }

    /// Set once in `init`, nilled only by `destroy()` on `queue`; every use happens on `queue`
    /// or after checking `isDestroyed` under `lock`.
    private var handle: OpaquePointer?
    private let context: Unmanaged<RDKafkaCallbackContext>
    private let lock = NSLock()
    let queue: DispatchQueue
    let logger: Logger

    init(kind: Kind, properties: [String: String], context: RDKafkaCallbackContext) throws(KafkaError) {
        let conf = try RDKafkaConfig.make(properties)
        let retained = Unmanaged.passRetained(context)
        rd_kafka_conf_set_opaque(conf, retained.toOpaque())
        rd_kafka_conf_set_log_cb(conf) { handle, level, facility, message in
            guard let context = RDKafkaCallbackContext.from(handle) else { return }
            let text = "\(facility.map { String(cString: $0) } ?? "rdkafka"): \(message.map { String(cString: $0) } ?? "")"
            context.logger.log(level: Logger.Level(syslogLevel: level), "\(text)", metadata: ["component": "librdkafka"])
        }
        rd_kafka_conf_set_error_cb(conf) { handle, rawCode, reason, _ in
            guard let context = RDKafkaCallbackContext.from(handle) else { return }
            let code = rd_kafka_resp_err_t(rawValue: rawCode)
            let fatal = code == RD_KAFKA_RESP_ERR__FATAL
            context.logger.log(
                level: fatal ? .error : .warning,
                "Kafka client error: \(reason.map { String(cString: $0) } ?? String(cString: rd_kafka_err2str(code)))",
                metadata: ["component": "librdkafka", "kafka_error": "\(code.rawValue)"]
            )
        }
        if context.onDelivery != nil {
            rd_kafka_conf_set_dr_msg_cb(conf) { handle, message, _ in
                guard let context = RDKafkaCallbackContext.from(handle), let message else { return }
                let id = UInt(bitPattern: message.pointee._private)
                if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    let report = KafkaDeliveryReport(
                        topic: String(cString: rd_kafka_topic_name(message.pointee.rkt)),
                        partition: message.pointee.partition,
                        offset: message.pointee.offset
                    )
                    context.onDelivery?(id, .success(report))
                } else {
                    context.onDelivery?(id, .failure(KafkaError(responseCode: message.pointee.err, context: "delivery failed")))
                }
            }
        }
        if kind == .consumer {
            rd_kafka_conf_set_rebalance_cb(conf, RDKafkaClient.rebalance)
        }
        do {
            self.handle = try RDKafkaConfig.makeHandle(type: kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf: conf)
        } catch {
            retained.release()
            throw error
        }
        self.context = retained
        self.logger = context.logger
        self.queue = DispatchQueue(label: "ecg.kafka.\(kind)")
    }

    deinit {
        if let handle { rd_kafka_destroy(handle) }
        context.release()
    }

    /// Runs `body` with the live handle on the dedicated queue; fails with `.shutdown` once destroyed.
    func withHandle<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws(KafkaError) -> T) async throws(KafkaError) -> T {
        let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
            queue.async {
                guard let handle = self.currentHandle() else {
                    continuation.resume(returning: .failure(KafkaError(code: .shutdown, message: "the Kafka client is shut down")))
                    return
                }
                do throws(KafkaError) {
                    continuation.resume(returning: .success(try body(handle)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// The handle, or nil once destroyed; only for work items already on `queue`.
    func currentHandle() -> OpaquePointer? {
        lock.withLock { handle }
    }

    /// Runs a short non-blocking call (`rd_kafka_produceva`) while holding the handle alive.
    func withLockedHandle<T>(_ body: (OpaquePointer?) -> T) -> T {
        lock.withLock { body(handle) }
    }

    /// Destroys the handle on the dedicated queue after `beforeDestroy` (flush or close) ran.
    func destroy(after beforeDestroy: @escaping @Sendable (OpaquePointer) -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                let handle = self.lock.withLock { () -> OpaquePointer? in
                    defer { self.handle = nil }
                    return self.handle
                }
                if let handle {
                    beforeDestroy(handle)
                    rd_kafka_destroy(handle)
                }
                continuation.resume()
            }
        }
    }

    /// Eager rebalance: assign what the group coordinator gives us, drop what it takes away.
    /// Offsets are committed right after each message is processed, so nothing is pending here.
    private static let rebalance:
        @convention(c) (OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?) -> Void =
            {
                handle,
                code,
                partitions,
                _ in
                guard let handle else { return }
                let context = RDKafkaCallbackContext.from(handle)
                let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
                let count = partitions?.pointee.cnt ?? 0
                switch code {
                case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
                    context?.logger.info("Kafka partitions assigned", metadata: ["partitions": "\(count)"])
                    if cooperative {
                        if let error = rd_kafka_incremental_assign(handle, partitions) {
                            context?.logger.error("\(KafkaError(consuming: error, context: "incremental assign failed"))")
                        }
                    } else {
                        rd_kafka_assign(handle, partitions)
                    }
                case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
                    context?.logger.info("Kafka partitions revoked", metadata: ["partitions": "\(count)"])
                    if cooperative {
                        if let error = rd_kafka_incremental_unassign(handle, partitions) {
                            context?.logger.error("\(KafkaError(consuming: error, context: "incremental unassign failed"))")
                        }
                    } else {
                        rd_kafka_assign(handle, nil)
                    }
                default:
                    context?.logger.warning("Kafka rebalance error: \(String(cString: rd_kafka_err2str(code)))")
                    rd_kafka_assign(handle, nil)
                }
            }
}

extension Logger.Level {
    /// Maps syslog levels, which librdkafka uses for its log callback.
    init(syslogLevel: Int32) {
        switch syslogLevel {
        case ...2: self = .critical
        case 3: self = .error
        case 4: self = .warning
        case 5: self = .notice
        case 6: self = .info
        default: self = .debug
        }
    }
}
