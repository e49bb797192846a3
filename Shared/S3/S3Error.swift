/// What can go wrong talking to S3. Messages name the operation and S3's error code, never a credential.
package enum S3Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// An endpoint setting that is not an `http(s)://host[:port]` URL.
    case invalidEndpoint(String)
    /// S3 answered with a status the operation does not expect; `code` is S3's `<Code>` when it sent one.
    case unexpectedStatus(operation: String, status: Int, code: String?)
    /// The request did not reach S3 or no answer came back.
    case unreachable(operation: String, reason: String)

    package var description: String {
        switch self {
        case .invalidEndpoint(let value):
            return "invalid S3 endpoint \(value): expected http(s)://host[:port]"
        case .unexpectedStatus(let operation, let status, let code):
            return "S3 \(operation) answered \(status)\(code.map { " \($0)" } ?? "")"
        case .unreachable(let operation, let reason):
            return "S3 \(operation) failed: \(reason)"
        }
    }
}
