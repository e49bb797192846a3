import ECGPlatform
import Foundation

/// The field rules of signup (SPEC.md §3 row 1). Each returns the normalized value or throws a 422
/// `validation_error` naming the field.
enum Validators {
    static let usernameLength = 3...50
    static let usernameMaximumBytes = 200
    static let maximumMarksPerCharacter = 4
    static let passwordLength = 8...128

    // MARK: - Email

    /// Trimmed and lowercased; a dot-atom local part (RFC 5322, with non-ASCII letters allowed as
    /// RFC 6531 does) and a domain of at least two labels.
    static func email(_ raw: String) throws(APIError) -> String {
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard isValidEmail(email) else {
            throw APIError.validation(field: "email", "must be a valid email address")
        }
        return email
    }

    static func isValidEmail(_ email: String) -> Bool {
        guard email.utf8.count <= 254 else { return false }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let local = parts[0]
        let domain = parts[1]
        guard (1...64).contains(local.utf8.count), (1...253).contains(domain.utf8.count) else { return false }
        let localSpecials = Set("!#$%&'*+/=?^_`{|}~-")
        guard local.first != ".", local.last != ".", !local.contains("..") else { return false }
        guard local.allSatisfy({ $0 == "." || localSpecials.contains($0) || isLetterOrDigit($0) }) else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for label in labels {
            guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-",
                label.allSatisfy({ $0 == "-" || isLetterOrDigit($0) })
            else { return false }
        }
        let topLevel = labels.last!
        return topLevel.count >= 2 && !topLevel.allSatisfy(\.isNumber)
    }

    // MARK: - Username

    /// 3–50 characters, each a Unicode letter, a decimal digit, `_` or `-` (so `사용자명` is valid);
    /// stored in Unicode NFC. A character may carry combining marks, but at most
    /// `maximumMarksPerCharacter` of them, and the whole name at most `usernameMaximumBytes` of UTF-8:
    /// a "character" could otherwise be kilobytes long (security review L6).
    static func username(_ raw: String) throws(APIError) -> String {
        let username = raw.precomposedStringWithCanonicalMapping
        guard usernameLength.contains(username.count) else {
            throw APIError.validation(field: "username", "must be 3 to 50 characters long")
        }
        guard username.utf8.count <= usernameMaximumBytes,
            username.allSatisfy({ $0.unicodeScalars.count <= 1 + maximumMarksPerCharacter })
        else {
            throw APIError.validation(
                field: "username",
                "must be at most \(usernameMaximumBytes) bytes of UTF-8, with at most \(maximumMarksPerCharacter) marks on a letter"
            )
        }
        guard username.allSatisfy(isUsernameCharacter) else {
            throw APIError.validation(field: "username", "may contain only letters, digits, '_' and '-'")
        }
        return username
    }

    /// Uniqueness ignores case and compatibility forms (`Ａｌｉｃｅ` and `alice` collide).
    static func usernameKey(_ username: String) -> String {
        username.precomposedStringWithCompatibilityMapping.lowercased().precomposedStringWithCompatibilityMapping
    }

    static func isUsernameCharacter(_ character: Character) -> Bool {
        character == "_" || character == "-" || isLetterOrDigit(character)
    }

    /// A letter (any script, with its combining marks) or a decimal digit.
    static func isLetterOrDigit(_ character: Character) -> Bool {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return false }
        switch first.properties.generalCategory {
        case .decimalNumber:
            return scalars.count == 1
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return scalars.dropFirst().allSatisfy { scalar in
                switch scalar.properties.generalCategory {
                case .nonspacingMark, .spacingMark, .enclosingMark, .otherLetter, .modifierLetter: true
                default: false
                }
            }
        default:
            return false
        }
    }

    // MARK: - Password

    /// 8–128 characters. Never truncated: `PasswordHasher` hashes every byte (bcrypt itself reads only 72).
    /// `field` is the name the 422 gives (`new_password` when changing it).
    static func password(_ password: String, field: String = "password") throws(APIError) {
        guard passwordLength.contains(password.count) else {
            throw APIError.validation(field: field, "must be 8 to 128 characters long")
        }
    }
}
