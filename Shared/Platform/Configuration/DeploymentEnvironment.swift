/// `ECG_ENV`: development and test may generate keys and use local defaults; production may not.
public enum DeploymentEnvironment: String, Sendable, CaseIterable {
    case development
    case test
    case production

    public var isProduction: Bool { self == .production }
}
