import Foundation
import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    public static let requestID = HTTPField.Name("X-Request-ID")!
}

/// Takes `X-Request-ID` from the gateway or the client (when it is a sane token), or makes one;
/// puts it in the logger's metadata and on every response, errors included.
public struct RequestIDMiddleware<Context: ECGRequestContextProtocol>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = request.headers[.requestID].flatMap(Self.acceptable) ?? UUID().uuidString.lowercased()
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

    /// At most 128 characters of letters, digits and `-_.:`; anything else could forge log lines.
    static func acceptable(_ value: String) -> String? {
        guard !value.isEmpty, value.count <= 128,
            value.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.:".unicodeScalars.contains($0) })
        else { return nil }
        return value
    }
}
