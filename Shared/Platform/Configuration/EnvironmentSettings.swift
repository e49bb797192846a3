import Configuration

/// Reads settings by their environment-variable names (SPEC.md §6) through swift-configuration,
/// and collects problems instead of stopping at the first one.
///
/// In production, `required` values must be set and must not equal a development default;
/// elsewhere the development default fills the gap.
package final class EnvironmentSettings {
    package let environment: DeploymentEnvironment
    private let reader: ConfigReader
    package private(set) var problems: [String] = []
    /// Every variable read so far, in the order first read, with its default and whether production
    /// must set it: what `<service> print-settings` reports (see `SettingsReport`).
    package private(set) var reads: [SettingRead] = []

    /// - Parameter reader: environment variables by default; tests pass their own.
    package init(reader: ConfigReader = ConfigReader(provider: EnvironmentVariablesProvider())) {
        self.reader = reader
        let raw = reader.string(forKey: Self.key("ECG_ENV")) ?? DeploymentEnvironment.development.rawValue
        if let environment = DeploymentEnvironment(rawValue: raw) {
            self.environment = environment
        } else {
            // Unknown values are treated as production, the strictest mode, and reported.
            self.environment = .production
            problems.append("ECG_ENV must be one of development, test, production (got \(raw))")
        }
        record("ECG_ENV", default: DeploymentEnvironment.development.rawValue)
    }

    /// Convenience for tests and tools: settings from a dictionary of environment variables.
    package convenience init(environment variables: [String: String]) {
        self.init(reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: variables)))
    }

    /// An optional value; empty counts as unset.
    package func optional(_ name: String) -> String? {
        record(name, default: nil)
        guard let value = reader.string(forKey: Self.key(name), isSecret: Self.looksSecret(name)), !value.isEmpty else { return nil }
        return value
    }

    /// A value with a default that is fine everywhere, production included.
    package func string(_ name: String, default defaultValue: String) -> String {
        record(name, default: defaultValue)
        return optional(name) ?? defaultValue
    }

    /// A value production must set explicitly; `developmentDefault` is used elsewhere and refused in production.
    package func required(_ name: String, developmentDefault: String?) -> String {
        record(name, default: environment.isProduction ? nil : developmentDefault, requiredInProduction: true)
        if let value = optional(name) {
            if environment.isProduction, let developmentDefault, value == developmentDefault {
                problems.append("\(name) is set to the development default; set a production value")
            }
            return value
        }
        if environment.isProduction || developmentDefault == nil {
            problems.append("\(name) is required\(environment.isProduction ? " when ECG_ENV=production" : "")")
            return ""
        }
        return developmentDefault!
    }

    package func int(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) -> Int {
        record(name, default: String(defaultValue))
        guard let raw = optional(name) else { return defaultValue }
        guard let value = Int(raw), range.contains(value) else {
            problems.append("\(name) must be a whole number in \(range.lowerBound)...\(range.upperBound) (got \(raw))")
            return defaultValue
        }
        return value
    }

    package func bool(_ name: String, default defaultValue: Bool) -> Bool {
        record(name, default: String(defaultValue))
        guard let raw = optional(name)?.lowercased() else { return defaultValue }
        switch raw {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default:
            problems.append("\(name) must be true or false (got \(raw))")
            return defaultValue
        }
    }

    /// Records a problem found by a caller's own validation.
    package func report(_ problem: String) {
        problems.append(problem)
    }

    /// Throws every problem found so far.
    package func validate() throws(ConfigurationError) {
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
    }

    /// Adds `name` to `reads`, or completes its entry (a default, a production requirement).
    private func record(_ name: String, default defaultValue: String?, requiredInProduction: Bool = false) {
        if let index = reads.firstIndex(where: { $0.name == name }) {
            reads[index].defaultValue = reads[index].defaultValue ?? defaultValue
            reads[index].requiredInProduction = reads[index].requiredInProduction || requiredInProduction
        } else {
            reads.append(
                SettingRead(name: name, defaultValue: defaultValue, requiredInProduction: requiredInProduction, secret: Self.looksSecret(name))
            )
        }
    }

    /// `DATABASE_URL` → `database.url`, which swift-configuration's environment provider maps back.
    static func key(_ name: String) -> ConfigKey {
        ConfigKey(name.lowercased().split(separator: "_").map(String.init))
    }

    static func looksSecret(_ name: String) -> Bool {
        ["KEY", "SECRET", "PASSWORD", "TOKEN", "DATABASE_URL"].contains { name.contains($0) }
    }
}
