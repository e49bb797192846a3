import Foundation
import Testing

/// The C boundaries of the package: librdkafka is called only inside `Shared/Kafka/RDKafka/`, and
/// PocketSphinx only from `Shared/Speech/` (the one module that imports `CPocketSphinx`).
@Suite("C boundaries")
struct CBoundaryTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Swift files under Shared/ and Services/ whose text matches `pattern`, relative to the root.
    static func files(matching pattern: String) throws -> [String] {
        var matches: [String] = []
        for folder in ["Shared", "Services"] {
            let base = root.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walker where url.pathExtension == "swift" {
                let text = try String(contentsOf: url, encoding: .utf8)
                if text.range(of: pattern, options: .regularExpression) != nil {
                    matches.append(String(url.path.dropFirst(root.path.count + 1)))
                }
            }
        }
        return matches.sorted()
    }

    @Test("librdkafka is called only in Shared/Kafka/RDKafka")
    func librdkafka() throws {
        let callers = try Self.files(matching: #"rd_kafka_[a-z_]+\("#)
        #expect(!callers.isEmpty, "the scan found the RDKafka files")
        #expect(callers.allSatisfy { $0.hasPrefix("Shared/Kafka/RDKafka/") }, "\(callers)")
    }

    @Test("CPocketSphinx is imported only by Shared/Speech")
    func pocketSphinx() throws {
        let importers = try Self.files(matching: #"import CPocketSphinx"#)
        #expect(importers == ["Shared/Speech/PocketSphinxDecoder.swift"])
    }
}
