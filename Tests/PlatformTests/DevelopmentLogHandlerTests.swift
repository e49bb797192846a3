import Foundation
import Logging
import Testing

@testable import ECGPlatform

@Suite("Development log lines")
struct DevelopmentLogHandlerTests {
    @Test("time, level, logger and message, then the metadata sorted by key")
    func format() {
        let line = DevelopmentLogHandler.line(
            time: Date(timeIntervalSince1970: 1_795_654_741.123_9),
            level: .info,
            logger: "auth-service",
            message: "GET /health 200",
            metadata: ["request_id": "abc", "duration_ms": "0.21", "http_status": "200"]
        )
        #expect(
            String(decoding: line, as: UTF8.self)
                == "2026-11-26T00:59:01.123Z info auth-service: GET /health 200 duration_ms=0.21 http_status=200 request_id=abc"
        )
    }

    @Test("setting a metadata key keeps it for the following lines only on that logger")
    func metadataIsPerLogger() {
        var handler = DevelopmentLogHandler(label: "test", level: .info)
        let copy = handler
        handler[metadataKey: "request_id"] = "r1"
        #expect(handler[metadataKey: "request_id"] == "r1")
        #expect(copy[metadataKey: "request_id"] == nil)
    }
}
