import ECGPlatform
import Foundation
import NIOCore
import Testing

@Suite("Response bodies are JSON written in field order")
struct ResponseJSONTests {
    static func text(_ value: some Encodable) throws -> String {
        String(buffer: try ResponseJSON.encode(value))
    }

    /// Both parsed back and written again with sorted keys: the same JSON value, whatever the key order.
    static func sameJSON(_ value: some Encodable) throws -> Bool {
        let foundation = JSONEncoder()
        foundation.outputFormatting = [.withoutEscapingSlashes]
        return try normalized(foundation.encode(value)) == normalized(Data(try ResponseJSON.encode(value).readableBytesView))
    }

    static func normalized(_ json: Data) throws -> Data {
        let value = try JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed])
        return try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
    }

    enum Status: String, Codable { case pending, uploaded }

    struct Key: Encodable {
        let raw: String
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(raw)
        }
    }

    struct Inner: Encodable {
        let label: String
        let scores: [Double]
    }

    struct Everything: Encodable {
        let text = "quote \" backslash \\ slash / newline \n tab \t bell \u{7} 지민 🎬"
        let empty = ""
        let key = Key(raw: "uploads/a b/c.mp4")
        let status = Status.uploaded
        let yes = true
        let no = false
        let smallest = Int64.min
        let largest = UInt64.max
        let zero = 0
        let negative: Int32 = -42
        let whole = 3.0
        let fraction = 0.1
        let huge = 1e300
        let tiny = -2.5e-8
        let single: Float = 0.5
        let missing: Int? = nil
        let present: Int? = 7
        let inner = Inner(label: "a", scores: [0, 0.25, 1])
        let nested = [[1, 2], [], [3]]
        let objects = [Inner(label: "x", scores: []), Inner(label: "y", scores: [2])]
        let headers = ["Content-Type": "video/mp4"]
        let emptyObject: [String: Int] = [:]
        let url = URL(string: "https://example.com/a?b=c")!
        let data = Data([0, 1, 2, 250])
        let date = Date(timeIntervalSinceReferenceDate: 12.5)
    }

    @Test("the same JSON value as Foundation's JSONEncoder, for every kind of field")
    func matchesJSONEncoder() throws {
        #expect(try Self.sameJSON(Everything()))
    }

    @Test("fields in declaration order, nil optionals left out, whole numbers without .0")
    func fieldOrder() throws {
        struct Body: Encodable {
            let uploadURL = "http://s3/x?a=b&c=d"
            let expiresIn = 3600
            let size: Int64? = nil
            let ratio = 2.0
            enum CodingKeys: String, CodingKey {
                case uploadURL = "upload_url", expiresIn = "expires_in", size, ratio
            }
        }
        #expect(try Self.text(Body()) == #"{"upload_url":"http://s3/x?a=b&c=d","expires_in":3600,"ratio":2}"#)
        #expect(try Self.text(ErrorBody(detail: "No such video.", code: "video_not_found")) == #"{"code":"video_not_found","detail":"No such video."}"#)
    }

    @Test("strings are escaped as JSON requires, slashes and non-ASCII left as they are")
    func escaping() throws {
        #expect(try Self.text("a\"b\\c\nd\r\t\u{8}\u{C}\u{1}\u{1F}/é") == #""a\"b\\c\nd\r\t\b\f\u0001\u001f/é""#)
        #expect(try Self.text(["", "plain"]) == #"["","plain"]"#)
    }

    @Test("integers at their limits")
    func integers() throws {
        #expect(try Self.text([Int64.min, -1, 0, 9, 10, Int64.max]) == "[-9223372036854775808,-1,0,9,10,9223372036854775807]")
        #expect(try Self.text([UInt64.max]) == "[18446744073709551615]")
        #expect(try Self.text(Int8.min) == "-128")
    }

    @Test("a number JSON cannot hold is refused")
    func nonFinite() {
        #expect(throws: EncodingError.self) { try ResponseJSON.encode([Double.nan]) }
        #expect(throws: EncodingError.self) { try ResponseJSON.encode(["x": Double.infinity]) }
    }

    /// A hand-written `encode(to:)` that leaves a nested container open and goes on with the outer one,
    /// writes an explicit null, and encodes a superclass's fields under a key.
    struct HandWritten: Encodable {
        enum Keys: String, CodingKey { case a, b, c, d, e, base }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(1, forKey: .a)
            var nested = container.nestedContainer(keyedBy: Keys.self, forKey: .b)
            try nested.encode("x", forKey: .c)
            var list = nested.nestedUnkeyedContainer(forKey: .d)
            try list.encode(true)
            try list.encodeNil()
            try container.encode(Optional<Int>.none, forKey: .e)
            let base = container.superEncoder(forKey: .base)
            var baseContainer = base.container(keyedBy: Keys.self)
            try baseContainer.encode(2, forKey: .a)
            try container.encode(3, forKey: .c)
        }
    }

    @Test("containers close when their parent goes on, as a hand-written encode(to:) uses them")
    func handWritten() throws {
        #expect(try Self.text(HandWritten()) == #"{"a":1,"b":{"c":"x","d":[true,null]},"e":null,"base":{"a":2},"c":3}"#)
        #expect(try Self.sameJSON(HandWritten()))
        #expect(try Self.text([HandWritten(), HandWritten()]).hasSuffix(#""c":3},{"a":1,"b":{"c":"x","d":[true,null]},"e":null,"base":{"a":2},"c":3}]"#))
    }

    @Test("a value that encodes nothing is an empty object")
    func encodesNothing() throws {
        struct Nothing: Encodable {
            func encode(to encoder: any Encoder) throws {}
        }
        struct Holder: Encodable { let nothing = Nothing() }
        #expect(try Self.text(Holder()) == #"{"nothing":{}}"#)
    }
}
