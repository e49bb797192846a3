import Foundation
import Hummingbird
import NIOCore

extension Request {
    /// Decodes a JSON body of at most 64 KiB: 413 when larger, 400 `invalid_json` when it does not
    /// parse, 422 `validation_error` naming the field when its shape is wrong.
    package func decodeJSON<T: Decodable>(_ type: T.Type, context: some RequestContext) async throws -> T {
        if let length = headers[.contentLength].flatMap(Int.init), length > HTTPLimits.maxBodyBytes {
            throw APIError.payloadTooLarge
        }
        let body = self.body
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: HTTPLimits.maxBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError.payloadTooLarge
        }
        guard buffer.readableBytes > 0 else { throw APIError.invalidJSON("The request body is empty; send a JSON object.") }
        do {
            return try JSONDecoder().decode(T.self, from: buffer)
        } catch let error as DecodingError {
            throw ErrorMapper.decodingError(error)
        }
    }
}

/// Encodes as JSON with the status given, for routes that answer 201 or 202.
package struct JSONResponse<Body: Encodable & Sendable>: ResponseGenerator {
    package let status: HTTPResponse.Status
    package let body: Body
    package var headers: HTTPFields

    package init(_ body: Body, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        let bytes = try ResponseJSON.encode(body)
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: bytes))
    }
}
