/// `ECG_ENV`: development and test may generate keys and use local defaults; production may not.
package enum DeploymentEnvironment: String, Sendable, CaseIterable {
    case development
    case test
    case production

    package var isProduction: Bool { self == .production }
}
