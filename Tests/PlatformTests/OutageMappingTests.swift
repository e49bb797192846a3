import ECGKafka
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing
import _ConnectionPoolModule

@testable import ECGPlatform

/// PostgreSQL or Kafka out of reach is 503 with `Retry-After` and a stable code, never 500 (issue 13, item 5).
@Suite("Outages answer 503")
struct OutageMappingTests {
    private let logger = Logger(label: "test")

    /// A real PostgresNIO connection error: connecting to a loopback port nobody listens on.
    private func connectionRefusedError() async throws -> any Error {
        let port = 1  // privileged, never listened on here: the connect is refused at once
        let configuration = PostgresConnection.Configuration(
            host: "127.0.0.1",
            port: port,
            username: "u",
            password: "p",
            database: "d",
            tls: .disable
        )
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            try await connection.close()
            Issue.record("connected to a closed port")
            throw CancellationError()
        } catch {
            return error
        }
    }

    @Test("a PostgreSQL connection error is database_unavailable")
    func connectionError() async throws {
        let error = try await connectionRefusedError()
        #expect(error is PSQLError)
        #expect((error as? PSQLError)?.serverInfo == nil)
        let apiError = ErrorMapper.apiError(for: error, logger: logger)
        #expect(apiError == .databaseUnavailable)
        #expect(apiError.status == .serviceUnavailable)
        #expect(apiError.headers[.retryAfter] == "1")
    }

    @Test("a pool that cannot connect (circuit breaker) is database_unavailable")
    func poolCircuitBreaker() {
        let apiError = ErrorMapper.apiError(for: ConnectionPoolError.connectionCreationCircuitBreakerTripped, logger: logger)
        #expect(apiError.code == "database_unavailable")
        #expect(apiError.status == .serviceUnavailable)
    }

    @Test("server errors that mean the server is going away are outages; others are not")
    func sqlStates() {
        for state in ["57P01", "57P02", "57P03", "08006", "08001", "53300"] {
            #expect(ErrorMapper.isUnavailableSQLState(state), "\(state)")
        }
        for state in ["23505", "42P01", "22P02", "40001", "57014"] {
            #expect(!ErrorMapper.isUnavailableSQLState(state), "\(state)")
        }
    }

    @Test("Kafka errors are broker_unavailable, a bad configuration stays 500")
    func kafka() {
        for code in [KafkaError.Code.broker(-195), .shutdown, .cancelled] {
            let apiError = ErrorMapper.apiError(for: KafkaError(code: code, message: "all brokers are down"), logger: logger)
            #expect(apiError == .brokerUnavailable)
            #expect(apiError.headers[.retryAfter] == "2")
        }
        #expect(ErrorMapper.apiError(for: KafkaError(code: .configuration, message: "bad"), logger: logger) == .unexpected)
    }

    @Test("the HTTP answer: 503, JSON body with code and detail, Retry-After, request id")
    func httpResponse() async throws {
        let configuration = ServiceConfiguration(
            serviceName: "auth-service",
            schema: "auth",
            settings: EnvironmentSettings(environment: ["ECG_ENV": "test"])
        )
        let refused = try await connectionRefusedError()
        let router = ServiceApplication.makeRouter(configuration: configuration)
        router.get("/db") { _, _ -> String in throw refused }
        router.get("/pool") { _, _ -> String in throw ConnectionPoolError.connectionCreationCircuitBreakerTripped }
        router.get("/kafka") { _, _ -> String in throw KafkaError(code: .broker(-187), message: "all brokers down") }
        try await Application(router: router).test(.router) { client in
            for (path, code, retryAfter) in [
                ("/db", "database_unavailable", "1"), ("/pool", "database_unavailable", "1"), ("/kafka", "broker_unavailable", "2"),
            ] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.retryAfter] == retryAfter)
                    #expect(response.headers[.requestID] != nil)
                    let body = try JSONDecoder().decode(ErrorBody.self, from: Data(response.body.readableBytesView))
                    #expect(body.code == code)
                    #expect(!body.detail.isEmpty)
                    #expect(!body.detail.contains("127.0.0.1"))
                }
            }
        }
    }
}
