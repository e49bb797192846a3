import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat

/// ECS task scale-in protection while the worker holds a job (deploy review M2): a scale-in or a
/// deployment then stops an idle worker instead of throwing away the work of a busy one.
///
/// On ECS the agent injects `ECS_AGENT_URI`; the worker sets protection through
/// `PUT $ECS_AGENT_URI/task-protection/v1/state` when it takes a job and clears it after the job's
/// offset is committed. Outside ECS (no `ECS_AGENT_URI`) this does nothing. A failed call is logged
/// and never stops a job: without protection a stopped worker's job is redelivered, as before.
struct ScaleInProtection: Sendable {
    /// The agent's task-protection endpoint, or nil outside ECS.
    let endpoint: String?
    /// How long one protection lasts if it is never cleared (a worker that hangs): the job timeout
    /// (analysis-service's `JOB_TIMEOUT_SECONDS`, 30 minutes by default) plus a margin.
    let expiresInMinutes: Int
    let httpClient: HTTPClient
    let logger: Logger

    init(agentURI: String?, expiresInMinutes: Int = 35, httpClient: HTTPClient, logger: Logger) {
        self.endpoint = agentURI.flatMap { $0.isEmpty ? nil : "\($0)/task-protection/v1/state" }
        self.expiresInMinutes = expiresInMinutes
        self.httpClient = httpClient
        self.logger = logger
    }

    var isAvailable: Bool { endpoint != nil }

    /// Protects the task from scale-in; true when the agent confirmed it.
    @discardableResult
    func protect() async -> Bool {
        await setState(StateRequest(protectionEnabled: true, expiresInMinutes: expiresInMinutes))
    }

    /// Makes the task eligible for scale-in again; true when the agent confirmed it.
    @discardableResult
    func release() async -> Bool {
        await setState(StateRequest(protectionEnabled: false, expiresInMinutes: nil))
    }

    private struct StateRequest: Encodable {
        let protectionEnabled: Bool
        let expiresInMinutes: Int?

        enum CodingKeys: String, CodingKey {
            case protectionEnabled = "ProtectionEnabled"
            case expiresInMinutes = "ExpiresInMinutes"
        }
    }

    /// The agent answers 200 with `{"protection": {...}}` on success, and `{"failure": {...}}` (200) or
    /// `{"error": {...}}` (4xx/5xx) otherwise.
    private struct StateResponse: Decodable {
        struct Protection: Decodable {
            let protectionEnabled: Bool
            enum CodingKeys: String, CodingKey { case protectionEnabled = "ProtectionEnabled" }
        }
        let protection: Protection?
    }

    private func setState(_ state: StateRequest) async -> Bool {
        guard let endpoint else { return false }
        do {
            var request = HTTPClientRequest(url: endpoint)
            request.method = .PUT
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(state)))
            let response = try await httpClient.execute(request, timeout: .seconds(5))
            let body = try await response.body.collect(upTo: 64 << 10)
            let decoded = try? JSONDecoder().decode(StateResponse.self, from: body)
            if response.status == .ok, decoded?.protection?.protectionEnabled == state.protectionEnabled {
                return true
            }
            logger.warning(
                "the ECS agent refused to change the task's scale-in protection",
                metadata: [
                    "protection_enabled": "\(state.protectionEnabled)",
                    "status": "\(response.status.code)",
                    "answer": "\(String(buffer: body).prefix(300))",
                ]
            )
        } catch {
            logger.warning(
                "could not reach the ECS agent to change the task's scale-in protection",
                metadata: ["protection_enabled": "\(state.protectionEnabled)", "error": "\(error)"]
            )
        }
        return false
    }
}
