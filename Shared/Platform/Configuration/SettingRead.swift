/// One environment variable a service read through `EnvironmentSettings`.
package struct SettingRead: Sendable, Equatable {
    package let name: String
    /// The value used when the variable is unset; nil when there is none (the service then fails, or
    /// goes without the feature).
    package internal(set) var defaultValue: String?
    /// True when `ECG_ENV=production` refuses to start without it.
    package internal(set) var requiredInProduction: Bool
    /// True when its value is kept out of logs and configuration dumps.
    package let secret: Bool
}
