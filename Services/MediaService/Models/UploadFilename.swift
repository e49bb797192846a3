import ECGPlatform
import Foundation

/// The filename a client gives generate-url, as it is stored: without surrounding whitespace, 1–255
/// characters and at most 1024 bytes of UTF-8, no control characters.
///
/// A name of printable ASCII (nearly every name) is checked byte by byte; any other goes through
/// Foundation's whitespace set and Unicode's general categories, and both paths give the same answer
/// (tested). Foundation's trimming and the property look-ups for every name were 2.4% of
/// media-service's CPU under generate-url (perf, issue 13).
enum UploadFilename {
    static func validated(_ raw: String) throws -> String {
        let filename = trimmed(raw)
        guard !filename.isEmpty else { throw APIError.validation(field: "filename", "must not be empty") }
        // Characters and bytes: one character may carry any number of combining marks (security review L6).
        let bytes = filename.utf8.count
        guard bytes <= 1024, bytes <= 255 || filename.count <= 255 else {
            throw APIError.validation(field: "filename", "must be at most 255 characters and 1024 bytes of UTF-8")
        }
        guard !containsControlCharacters(filename) else {
            throw APIError.validation(field: "filename", "must not contain control characters")
        }
        return filename
    }

    /// Without leading and trailing whitespace and newlines (Foundation's `.whitespacesAndNewlines`).
    static func trimmed(_ text: String) -> String {
        let utf8 = text.utf8
        if let first = utf8.first, let last = utf8.last, isVisibleASCII(first), isVisibleASCII(last) { return text }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether any scalar is in Unicode's general category `Cc` (C0, DEL, C1).
    static func containsControlCharacters(_ text: String) -> Bool {
        if text.utf8.allSatisfy({ $0 == UInt8(ascii: " ") || isVisibleASCII($0) }) { return false }
        return text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    private static func isVisibleASCII(_ byte: UInt8) -> Bool { (0x21...0x7E).contains(byte) }
}
