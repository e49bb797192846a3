/// Everything wrong with the configuration, collected so that one start names every bad variable.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let problems: [String]

    public init(problems: [String]) {
        self.problems = problems
    }

    public var description: String {
        "invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
