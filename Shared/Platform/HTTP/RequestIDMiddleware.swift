import ECGEvents
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

extension HTTPField.Name {
    package static let requestID = HTTPField.Name("X-Request-ID")!
}

/// Takes `X-Request-ID` from the gateway or the client (when it is a sane token), or makes one;
/// puts it in the logger's metadata and on every response, errors included.
///
/// Both paths run on every request: the check is a scan of the bytes (not `CharacterSet`), and a
/// new id is a random UUID (version 4) from `RequestIDBits`, written as lowercase hex by
/// `UUID.lowercasedString`.
package struct RequestIDMiddleware<Context: ECGRequestContextProtocol>: RouterMiddleware {
    package init() {}

    package func handle(_ request: Request, context: Context, next: @concurrent (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = request.headers[.requestID].flatMap(Self.acceptable) ?? Self.makeID()
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = ErrorMapper.response(for: error, logger: context.logger)
        }
        response.headers[.requestID] = requestID
        return response
    }

    /// At most 128 characters of ASCII letters, digits and `-_.:`; anything else could forge log lines.
    static func acceptable(_ value: String) -> String? {
        let utf8 = value.utf8
        guard !utf8.isEmpty, utf8.count <= 128 else { return nil }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"):
                continue
            default:
                return nil
            }
        }
        return value
    }

    /// A random (version 4, RFC 9562) UUID in its lowercase text form.
    ///
    /// The bits come from `RequestIDBits`, not `SystemRandomNumberGenerator`: that made two
    /// `getrandom(2)` system calls per request (perf on `/health`, issue 13). A request id names a
    /// request in logs; it is not a secret, so unique and unguessable-enough bits suffice.
    static func makeID() -> String {
        let (high, low) = RequestIDBits.next()
        return UUID(version4Bits: high, low).lowercasedString
    }
}

/// 128 bits per request id without a system call: a per-process counter, started at a value from the
/// system's random source, mixed with SplitMix64 (Steele, Lea and Flood, 2014) under a second random
/// key. Ids never repeat within a process (the counter does not), and processes start at unrelated
/// random points.
enum RequestIDBits {
    private static let seeds: (counter: UInt64, key: UInt64) = {
        var generator = SystemRandomNumberGenerator()
        return (generator.next(), generator.next())
    }()
    private static let counter = Atomic<UInt64>(0)

    static func next() -> (UInt64, UInt64) {
        let n = counter.wrappingAdd(1, ordering: .relaxed).oldValue &+ seeds.counter
        return (mix(n ^ seeds.key), mix(n &+ 0x9E37_79B9_7F4A_7C15 ^ ~seeds.key))
    }

    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
