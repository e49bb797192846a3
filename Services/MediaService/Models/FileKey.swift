import ECGEvents
import Foundation

/// Object keys of uploaded videos: `uploads/<uuid>/<sanitized filename>` (SPEC.md §3 row 8).
enum FileKey {
    static let prefix = "uploads/"
    /// Longest sanitized filename, in UTF-8 bytes (S3 keys may be 1024 bytes; the prefix takes 45).
    static let maxNameBytes = 200
    /// Longest key a route looks up; anything longer cannot be one of ours.
    static let maxKeyBytes = 1024

    static func make(filename: String, contentType: String, id: UUID = .random()) -> VideoKey {
        VideoKey(prefix + id.lowercasedString + "/" + sanitize(filename: filename, contentType: contentType))
    }

    /// A safe, readable object name from a client's filename: the last path component, NFC-normalized;
    /// letters and digits of any script, `-`, `_` and `.` kept; every other run of characters (spaces,
    /// controls, `/`, `\`, `%`, `?`, `#`, quotes…) becomes one `_`; no leading dot (no hidden files, no
    /// `..`); at most `maxNameBytes` bytes; the extension kept, or the content type's added when missing.
    static func sanitize(filename: String, contentType: String) -> String {
        let lastComponent = filename.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        // ASCII text is already in NFC: Foundation's normalization is skipped for the common case.
        let component = lastComponent.utf8.allSatisfy { $0 < 0x80 } ? lastComponent : lastComponent.precomposedStringWithCanonicalMapping

        var rawStem = Substring(component)
        var ext = ""
        if let dot = component.lastIndex(of: ".") {
            let candidate = component[component.index(after: dot)...]
            if (1...10).contains(candidate.count), candidate.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
                rawStem = component[..<dot]
                ext = String(candidate)
            }
        }
        if ext.isEmpty { ext = VideoContentType.extensions[contentType] ?? "bin" }

        var stem = ""
        var pendingUnderscore = false
        for character in rawStem {
            if isKept(character) {
                if pendingUnderscore, !stem.isEmpty { stem.append("_") }
                pendingUnderscore = false
                stem.append(character)
            } else {
                pendingUnderscore = true
            }
        }
        let budget = maxNameBytes - ext.utf8.count - 1
        while stem.utf8.count > budget { stem.removeLast() }
        stem = trimmed(stem)
        if stem.isEmpty { stem = "video" }
        return stem + "." + ext
    }

    /// Without leading or trailing `.`, `_` and `-`.
    private static func trimmed(_ text: String) -> String {
        let separators: Set<Character> = [".", "_", "-"]
        var result = Substring(text).drop(while: { separators.contains($0) })
        while let last = result.last, separators.contains(last) { result.removeLast() }
        return String(result)
    }

    private static func isKept(_ character: Character) -> Bool {
        if let ascii = character.asciiValue {
            switch ascii {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                return true
            default:
                return false
            }
        }
        // Whole grapheme clusters of letters and digits (with their combining marks), never symbols or controls.
        guard let first = character.unicodeScalars.first else { return false }
        let properties = first.properties
        let isLetterOrDigit = properties.isAlphabetic || properties.numericType == .decimal
        return isLetterOrDigit
            && character.unicodeScalars.allSatisfy { scalar in
                scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal
                    || scalar.properties.generalCategory == .nonspacingMark || scalar.properties.generalCategory == .spacingMark
            }
    }

    /// The key in a route's catch-all path: raw slashes or `%2F`, percent-decoded once. Nil when it
    /// cannot name an object (bad percent-encoding or UTF-8, empty, too long, a NUL).
    static func fromPath(_ raw: Substring?) -> VideoKey? {
        guard let raw, let decoded = String(raw).removingPercentEncoding else { return nil }
        return lookupKey(decoded)
    }

    /// `key` when it could be one of ours and is safe to look up (PostgreSQL text cannot hold NUL).
    static func lookupKey(_ key: String) -> VideoKey? {
        guard !key.isEmpty, key.utf8.count <= maxKeyBytes, !key.unicodeScalars.contains("\u{0}") else { return nil }
        return VideoKey(key)
    }
}
