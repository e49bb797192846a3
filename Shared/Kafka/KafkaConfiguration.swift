/// Connection settings shared by producers and consumers.
///
/// Typed values cover what ECG configures itself (SPEC.md §6); `properties` passes any other
/// librdkafka property through unchanged (for example `ssl.ca.location` or `socket.timeout.ms`).
package struct KafkaConfiguration: Sendable {
    package var bootstrapServers: String
    /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl` (`KAFKA_SECURITY_PROTOCOL`).
    package var securityProtocol: String?
    /// `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512` (`KAFKA_SASL_MECHANISM`).
    package var saslMechanism: String?
    package var saslUsername: String?
    package var saslPassword: String?
    package var clientID: String
    /// Longest a consumer's fetch waits for data (`KAFKA_FETCH_WAIT_MS`, librdkafka's
    /// `fetch.wait.max.ms`). A real broker answers as soon as data arrives, so this only bounds
    /// idle polling there; the embedded broker answers an empty fetch only when the wait ends, so
    /// with it this is the latency each consumer hop adds.
    package var consumerFetchWaitMilliseconds: Int
    /// Longest a consumer may hold one message before it must poll again (librdkafka's
    /// `max.poll.interval.ms`); past it, librdkafka leaves the group and the partition (with the
    /// message in hand) moves to another member. A worker holds an analysis request for the whole
    /// job (download, ffmpeg, recognition), so the default is analysis-service's job timeout
    /// (`JOB_TIMEOUT_SECONDS`, 1800 s) plus a minute: a job still running then has been failed by
    /// analysis-service anyway. librdkafka's own default (300 s) evicted workers on long videos
    /// and restarted their jobs elsewhere (deploy review M1). A member that dies is still noticed
    /// after `session.timeout.ms` (10 s), which heartbeats from librdkafka's own thread keep alive.
    package var consumerMaxPollIntervalMilliseconds: Int
    /// Extra librdkafka properties; they win over the typed values.
    package var properties: [String: String]

    package init(
        bootstrapServers: String,
        securityProtocol: String? = nil,
        saslMechanism: String? = nil,
        saslUsername: String? = nil,
        saslPassword: String? = nil,
        clientID: String = "ecg-backend",
        consumerFetchWaitMilliseconds: Int = 100,
        consumerMaxPollIntervalMilliseconds: Int = 1_860_000,
        properties: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.securityProtocol = securityProtocol
        self.saslMechanism = saslMechanism
        self.saslUsername = saslUsername
        self.saslPassword = saslPassword
        self.clientID = clientID
        self.consumerFetchWaitMilliseconds = consumerFetchWaitMilliseconds
        self.consumerMaxPollIntervalMilliseconds = consumerMaxPollIntervalMilliseconds
        self.properties = properties
    }

    /// The librdkafka properties of a consumer: the common ones plus the consumer's typed
    /// settings (`properties` still wins).
    package var consumerProperties: [String: String] {
        [
            "fetch.wait.max.ms": String(consumerFetchWaitMilliseconds),
            "max.poll.interval.ms": String(consumerMaxPollIntervalMilliseconds),
        ].merging(commonProperties) { _, explicit in explicit }
    }

    /// The librdkafka properties common to every client.
    var commonProperties: [String: String] {
        var result: [String: String] = [
            "bootstrap.servers": bootstrapServers,
            "client.id": clientID,
            "log.connection.close": "false",
        ]
        if let securityProtocol { result["security.protocol"] = securityProtocol }
        if let saslMechanism { result["sasl.mechanisms"] = saslMechanism }
        if let saslUsername { result["sasl.username"] = saslUsername }
        if let saslPassword { result["sasl.password"] = saslPassword }
        return result.merging(properties) { _, explicit in explicit }
    }
}
