import ECGEvents
import Foundation

/// What `<service> print-settings --json` prints: the environment variables the service reads (with
/// their defaults, whether production requires them, whether they are secret), its HTTP port, and the
/// Kafka topics and consumer groups it uses. `infra/validate` compares compose/, infra/aws/ and the
/// Kafka ACLs against it, so that none of them restates the code by hand.
///
/// The variables are not listed here: the service's own settings code runs against an empty
/// environment, once as development and once as production, and `EnvironmentSettings` records what it
/// reads. Production's problems name the variables that are required only there.
package struct SettingsReport: Codable, Sendable, Equatable {
    package struct Variable: Codable, Sendable, Equatable {
        package let name: String
        /// The default in production; nil when there is none. A secret's default is printed as `hiddenDefault`.
        package let productionDefault: String?
        /// The default in development and test (the local stack's values).
        package let developmentDefault: String?
        package let requiredInProduction: Bool
        package let secret: Bool
    }

    /// A consumer group, by its full name or by a prefix (a group per process, such as the worker's
    /// cancellation watcher).
    package struct ConsumerGroupUse: Codable, Sendable, Equatable {
        package enum Match: String, Codable, Sendable { case literal, prefixed }
        package let name: String
        package let match: Match

        package static func literal(_ name: String) -> Self { .init(name: name, match: .literal) }
        package static func prefixed(_ name: String) -> Self { .init(name: name, match: .prefixed) }
    }

    /// The topics a service writes and reads, by their default names, and its consumer groups.
    package struct KafkaUse: Codable, Sendable, Equatable {
        package let produces: [String]
        package let consumes: [String]
        package let groups: [ConsumerGroupUse]

        /// `deadLetters`: consumed topics whose undeliverable messages this service writes to `<topic>.dlq`.
        package init(produces: [String], consumes: [String], groups: [ConsumerGroupUse], deadLetters: Bool) {
            self.produces = (produces + (deadLetters ? consumes.map(Topics.deadLetter(for:)) : [])).sorted()
            self.consumes = consumes.sorted()
            self.groups = groups
        }
    }

    package let service: String
    /// The HTTP port (`PORT`'s default); nil for the worker, which serves no HTTP.
    package let port: Int?
    package let variables: [Variable]
    package let kafka: KafkaUse

    /// - Parameters:
    ///   - read: the service's settings code (the same calls its start-up makes, before connecting).
    package init(service: String, kafka: KafkaUse, read: (EnvironmentSettings) -> Void) {
        let development = EnvironmentSettings(environment: ["ECG_ENV": DeploymentEnvironment.development.rawValue])
        read(development)
        let production = EnvironmentSettings(environment: ["ECG_ENV": DeploymentEnvironment.production.rawValue])
        read(production)
        let productionReads = Dictionary(production.reads.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        // Variables production refuses to start without, also those a settings type checks itself.
        let reportedRequired = Set(production.problems.compactMap(Self.requiredVariable(in:)))
        var variables = (production.reads.map(\.name) + development.reads.map(\.name)).reduce(into: [String]()) { names, name in
            if !names.contains(name) { names.append(name) }
        }
        .map { name -> Variable in
            let inDevelopment = development.reads.first { $0.name == name }
            let inProduction = productionReads[name]
            let secret = (inDevelopment ?? inProduction)?.secret ?? false
            func shown(_ value: String?) -> String? { secret ? value.map { _ in Self.hiddenDefault } : value }
            return Variable(
                name: name,
                productionDefault: shown(inProduction?.defaultValue),
                developmentDefault: shown(inDevelopment?.defaultValue),
                requiredInProduction: (inProduction?.requiredInProduction ?? false) || reportedRequired.contains(name),
                secret: secret
            )
        }
        // The `TOPIC_*` variables last, in `Topics`' order, wherever the service reads them.
        let topicNames = Topics.variables
        variables = variables.filter { !topicNames.contains($0.name) } + topicNames.compactMap { name in variables.first { $0.name == name } }
        self.service = service
        self.port = variables.first { $0.name == "PORT" }?.productionDefault.flatMap(Int.init)
        self.variables = variables
        self.kafka = kafka
    }

    /// What a secret's default is printed as.
    package static let hiddenDefault = "(hidden)"

    /// `NAME` of a problem `NAME is required …`.
    static func requiredVariable(in problem: String) -> String? {
        guard let range = problem.range(of: " is required") else { return nil }
        let name = problem[..<range.lowerBound]
        return !name.isEmpty && name.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) ? String(name) : nil
    }

    /// The report as sorted, indented JSON.
    package func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }
}
