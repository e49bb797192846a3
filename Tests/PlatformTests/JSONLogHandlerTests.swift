import Foundation
import Logging
import Testing

@testable import ECGPlatform

@Suite("Production log lines (JSON)")
struct JSONLogHandlerTests {
    private func decode(_ line: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
    }

    @Test("a line is one JSON object with time, level, logger, message and the metadata, keys sorted")
    func fields() throws {
        let time = Date(timeIntervalSince1970: 1_795_654_741.123_9)
        let line = JSONLogHandler.line(
            time: time,
            level: .info,
            logger: "auth-service",
            message: "GET /api/auth/me 200",
            metadata: ["request_id": "r-1", "http_status": "200", "service": "auth-service"]
        )
        let object = try decode(line)
        #expect(object["time"] as? String == "2026-11-26T00:59:01.123Z")
        #expect(object["level"] as? String == "info")
        #expect(object["logger"] as? String == "auth-service")
        #expect(object["message"] as? String == "GET /api/auth/me 200")
        #expect(object["request_id"] as? String == "r-1")
        #expect(object["http_status"] as? String == "200")
        let text = String(decoding: line, as: UTF8.self)
        #expect(!text.contains("\n"))
        let keys = ["http_status", "level", "logger", "message", "request_id", "service", "time"]
        let positions = keys.map { text.range(of: "\"\($0)\":")!.lowerBound }
        #expect(positions == positions.sorted(), "keys are not in sorted order: \(text)")
    }

    @Test("timestamps are UTC with zero-padded fields and milliseconds")
    func timestamps() {
        #expect(JSONLogHandler.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(JSONLogHandler.timestamp(Date(timeIntervalSince1970: 946_684_799.999_9)) == "1999-12-31T23:59:59.999Z")
        #expect(JSONLogHandler.timestamp(Date(timeIntervalSince1970: 1_709_210_096.051)) == "2024-02-29T12:34:56.051Z")
    }

    @Test("an event's metadata wins over the logger's for a key both have")
    func mergedFields() {
        let fields = LogFields.merged(["request_id": "r-1", "a": "logger"], ["a": "event"])
        #expect(fields.count == 2)
        #expect(fields.first { $0.0 == "a" }?.1 == .string("event"))
        #expect(fields.first { $0.0 == "request_id" }?.1 == .string("r-1"))
    }

    @Test("quotes, backslashes, newlines and control characters are escaped; other UTF-8 is kept")
    func escaping() throws {
        let message = "say \"hi\"\\ then\nnext line\t\u{1}, 한국어"
        let line = JSONLogHandler.line(time: Date(), level: .warning, logger: "x", message: message, metadata: ["path": "/a\"b"])
        let object = try decode(line)
        #expect(object["message"] as? String == message)
        #expect(object["path"] as? String == "/a\"b")
        #expect(!String(decoding: line, as: UTF8.self).contains("\n"))
    }

    @Test("nested metadata becomes JSON arrays and objects; metadata cannot replace the fixed fields")
    func nestedAndFixed() throws {
        let line = JSONLogHandler.line(
            time: Date(),
            level: .error,
            logger: "media-service",
            message: "real message",
            metadata: ["message": "forged", "level": "debug", "ids": ["a", "b"], "topic": ["name": "ecg.media.events", "partition": "0"]]
        )
        let object = try decode(line)
        #expect(object["message"] as? String == "real message")
        #expect(object["level"] as? String == "error")
        #expect(object["ids"] as? [String] == ["a", "b"])
        #expect(object["topic"] as? [String: String] == ["name": "ecg.media.events", "partition": "0"])
    }
}
