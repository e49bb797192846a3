import Crypto
import Foundation

/// The pieces of AWS Signature Version 4 that do not depend on a key: encoding, canonical forms, hashes.
/// Written from AWS's "Signature Version 4 signing process" and the S3 "Authenticating Requests" pages.
package enum SigV4 {
    package static let algorithm = "AWS4-HMAC-SHA256"
    /// The payload hash of presigned URLs: the body is not known when the URL is made.
    package static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of the empty string.
    package static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    // MARK: - Encoding

    /// AWS's `UriEncode`: every byte of the UTF-8 form is percent-encoded (upper-case hex) except the
    /// unreserved characters `A-Z a-z 0-9 - _ . ~`; `/` is kept when `encodeSlash` is false (object key
    /// paths) and encoded otherwise (query names and values). A space is `%20`, never `+`.
    package static func uriEncode(_ text: String, encodeSlash: Bool) -> String {
        // Most names, values and keys have nothing to encode: they are returned as they are.
        if text.utf8.allSatisfy({ isUnreserved($0) || ($0 == UInt8(ascii: "/") && !encodeSlash) }) { return text }
        var result = [UInt8]()
        result.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) || (byte == UInt8(ascii: "/") && !encodeSlash) {
                result.append(byte)
            } else {
                result.append(UInt8(ascii: "%"))
                result.append(hexDigits[Int(byte >> 4)])
                result.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    // MARK: - Canonical forms

    /// Query parameters, each name and value `UriEncode`d, sorted by name then value, joined with `&`;
    /// a parameter without a value is `name=`.
    package static func canonicalQuery(_ parameters: [(name: String, value: String)]) -> String {
        var encoded: [(name: String, value: String)] = parameters.map { parameter in
            (uriEncode(parameter.name, encodeSlash: true), uriEncode(parameter.value, encodeSlash: true))
        }
        func precedes(_ left: (name: String, value: String), _ right: (name: String, value: String)) -> Bool {
            left.name == right.name ? left.value < right.value : left.name < right.name
        }
        // A presigned URL's own parameters arrive in order already.
        if zip(encoded, encoded.dropFirst()).contains(where: { precedes($1, $0) }) { encoded.sort(by: precedes) }
        var query = ""
        query.reserveCapacity(encoded.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 2 })
        for (index, parameter) in encoded.enumerated() {
            if index > 0 { query.append("&") }
            query.append(parameter.name)
            query.append("=")
            query.append(parameter.value)
        }
        return query
    }

    /// Lower-case names; values trimmed with inner runs of spaces collapsed; repeated names joined with `,`.
    /// Returns the canonical header block (each line ending in `\n`) and the signed-headers list.
    package static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (block: String, signedHeaders: String) {
        // Sorted by name; a repeated name's values keep the order they came in.
        typealias Header = (offset: Int, name: String, value: String)
        let normalized: [Header] = headers.enumerated().map { offset, header in
            (offset, lowercased(header.name), normalizeHeaderValue(header.value))
        }
        let sorted = normalized.sorted { left, right in
            left.name == right.name ? left.offset < right.offset : left.name < right.name
        }
        var block = ""
        var signedHeaders = ""
        for (index, header) in sorted.enumerated() {
            if index > 0, sorted[index - 1].name == header.name {
                block.append(",")  // one line per name
            } else {
                if index > 0 {
                    block.append("\n")
                    signedHeaders.append(";")
                }
                signedHeaders.append(header.name)
                block.append(header.name)
                block.append(":")
            }
            block.append(header.value)
        }
        if !sorted.isEmpty { block.append("\n") }
        return (block, signedHeaders)
    }

    /// Header names are ASCII tokens; most already arrive in lower case.
    private static func lowercased(_ name: String) -> String {
        name.utf8.contains(where: { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) ? name.lowercased() : name
    }

    /// Trims spaces and tabs and collapses inner runs of spaces to one, byte by byte: every presigned
    /// URL runs this, and Foundation's `trimmingCharacters(in:)` with a `CharacterSet` was the
    /// costliest step of a signature (issue 13, item 4).
    static func normalizeHeaderValue(_ value: String) -> String {
        let bytes = value.utf8
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        if let first = bytes.first, let last = bytes.last, !isBlank(first), !isBlank(last),
            !zip(bytes, bytes.dropFirst()).contains(where: { $0 == UInt8(ascii: " ") && $1 == UInt8(ascii: " ") })
        {
            return value  // nothing to trim or collapse, as for nearly every value
        }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) }) else { return "" }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var previousWasSpace = false
        for byte in bytes[first...last] {
            if byte == UInt8(ascii: " ") {
                if !previousWasSpace { result.append(byte) }
                previousWasSpace = true
            } else {
                result.append(byte)
                previousWasSpace = false
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// The canonical request: method, canonical URI, canonical query, canonical headers, signed headers, payload hash.
    package static func canonicalRequest(
        method: String,
        path: String,
        query: String,
        headers: (block: String, signedHeaders: String),
        payloadHash: String
    ) -> String {
        [method, path, query, headers.block, headers.signedHeaders, payloadHash].joined(separator: "\n")
    }

    /// `AWS4-HMAC-SHA256`, the timestamp, the credential scope, and the hex SHA-256 of the canonical request.
    package static func stringToSign(canonicalRequest: String, timestamp: String, scope: String) -> String {
        var request = canonicalRequest
        let hash = request.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        return [algorithm, timestamp, scope, hex(hash)].joined(separator: "\n")
    }

    // MARK: - Hashes and dates

    package static func sha256Hex(_ data: some DataProtocol) -> String {
        hex(SHA256.hash(data: data))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var result: [UInt8] = []
        result.reserveCapacity(64)
        for byte in bytes {
            result.append(hexLower[Int(byte >> 4)])
            result.append(hexLower[Int(byte & 0x0F)])
        }
        return String(decoding: result, as: UTF8.self)
    }

    private static let hexLower = Array("0123456789abcdef".utf8)

    /// `20130524T000000Z` and `20130524` for a moment, in UTC.
    package static func timestamp(_ date: Date) -> (timestamp: String, day: String) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let dayString = pad(year, 4) + pad(month, 2) + pad(day, 2)
        let time = pad(secondOfDay / 3600, 2) + pad(secondOfDay % 3600 / 60, 2) + pad(secondOfDay % 60, 2)
        return (dayString + "T" + time + "Z", dayString)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
    private static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
