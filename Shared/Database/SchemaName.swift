/// A validated schema name, safe to splice into SQL (identifiers cannot be bound parameters).
package struct SchemaName: Sendable, Equatable, CustomStringConvertible {
    package let rawValue: String

    package init(_ rawValue: String) throws {
        guard rawValue.range(of: "^[a-z_][a-z0-9_]*$", options: .regularExpression) != nil else {
            throw MigrationError.invalidSchemaName(rawValue)
        }
        self.rawValue = rawValue
    }

    package var description: String { rawValue }
}
