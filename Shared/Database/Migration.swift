import Crypto
import Foundation

/// One numbered SQL migration, e.g. `0001_create_users.sql` → version 1, name `create_users`.
package struct Migration: Sendable, Equatable {
    package let version: Int
    package let name: String
    package let sql: String

    package init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// Reads every `NNNN_name.sql` file of a directory, ordered by version.
    /// Refuses duplicate versions and files that do not follow the naming rule.
    package static func load(from directory: URL) throws -> [Migration] {
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
        let migrations = try files.map { url -> Migration in
            let stem = url.deletingPathExtension().lastPathComponent
            guard let separator = stem.firstIndex(of: "_"), let version = Int(stem[..<separator]), version > 0 else {
                throw MigrationError.badFileName(url.lastPathComponent)
            }
            return Migration(version: version, name: String(stem[stem.index(after: separator)...]), sql: try String(contentsOf: url, encoding: .utf8))
        }.sorted { $0.version < $1.version }
        for (previous, next) in zip(migrations, migrations.dropFirst()) where previous.version == next.version {
            throw MigrationError.duplicateVersion(next.version)
        }
        return migrations
    }

    /// SHA-256 of the SQL, hex: recorded when applied, compared on every later start.
    package var checksum: String {
        SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The statements of `sql`, split on `;` outside quotes, dollar-quoted bodies and comments,
    /// because PostgreSQL's extended protocol runs one statement per query.
    package var statements: [String] {
        SQLStatementSplitter.split(sql)
    }
}

package enum MigrationError: Error, CustomStringConvertible, Equatable {
    case badFileName(String)
    case duplicateVersion(Int)
    case invalidSchemaName(String)
    case unknownAppliedVersion(Int)
    case outOfOrder(version: Int, newerApplied: Int)
    case changedAfterApplied(version: Int, name: String, schema: String)

    package var description: String {
        switch self {
        case .badFileName(let name): "migration file \(name) must be named NNNN_description.sql"
        case .duplicateVersion(let version): "two migration files have version \(version)"
        case .invalidSchemaName(let name): "schema name \(name) must match [a-z_][a-z0-9_]*"
        case .unknownAppliedVersion(let version):
            "the database has migration \(version) applied, which this build does not know although it knows later ones: were migration files renumbered or removed?"
        case .outOfOrder(let version, let newer):
            "migration \(version) of this build is not applied, but the newer \(newer) (unknown to this build) is: a release may only run against the schema of its own or a later release that includes all of its migrations"
        case .changedAfterApplied(let version, let name, let schema):
            "migration \(version) (\(name)) was edited after it was applied to schema \(schema): restore the file and put the change in a new migration (a local development database can be reset with `make clean-data`)"
        }
    }
}

enum SQLStatementSplitter {
    static func split(_ sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var index = sql.startIndex
        var dollarTag: String?
        var inSingleQuote = false
        func hasPrefix(_ prefix: String) -> Bool { sql[index...].hasPrefix(prefix) }

        while index < sql.endIndex {
            let character = sql[index]
            if let tag = dollarTag {
                if hasPrefix(tag) {
                    current += tag
                    index = sql.index(index, offsetBy: tag.count)
                    dollarTag = nil
                    continue
                }
            } else if inSingleQuote {
                if character == "'" { inSingleQuote = false }
            } else if hasPrefix("--") {
                // Skip the comment up to the end of the line.
                while index < sql.endIndex, sql[index] != "\n" { index = sql.index(after: index) }
                continue
            } else if character == "'" {
                inSingleQuote = true
            } else if character == "$", let tagEnd = sql[sql.index(after: index)...].firstIndex(of: "$"),
                sql[sql.index(after: index)..<tagEnd].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
            {
                let tag = String(sql[index...tagEnd])
                current += tag
                index = sql.index(after: tagEnd)
                dollarTag = tag
                continue
            } else if character == ";" {
                let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { statements.append(statement) }
                current = ""
                index = sql.index(after: index)
                continue
            }
            current.append(character)
            index = sql.index(after: index)
        }
        let last = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !last.isEmpty { statements.append(last) }
        return statements
    }
}
