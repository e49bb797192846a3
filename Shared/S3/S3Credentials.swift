/// The credentials that sign S3 requests: an access key pair and, for temporary credentials
/// (an ECS task role, STS), the session token that goes with them.
package struct S3Credentials: Sendable, Equatable {
    package var accessKeyID: String
    package var secretAccessKey: String
    /// Sent as `X-Amz-Security-Token` (a signed query parameter in presigned URLs, a signed header otherwise).
    package var sessionToken: String?

    package init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken.flatMap { $0.isEmpty ? nil : $0 }
    }
}

extension S3Credentials: CustomStringConvertible {
    /// Never prints the secret or the token.
    package var description: String {
        "S3Credentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>, sessionToken: \(sessionToken == nil ? "none" : "<redacted>"))"
    }
}
