/// Everything wrong with the configuration, collected so that one start names every bad variable.
package struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    package let problems: [String]

    package init(problems: [String]) {
        self.problems = problems
    }

    package var description: String {
        "invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
