import ECGPlatform
import Testing

@testable import AuthService

@Suite("Signup validation (SPEC.md §3 row 1)")
struct ValidatorsTests {
    @Test(
        "valid emails are accepted, trimmed and lowercased",
        arguments: [
            ("User@Example.COM", "user@example.com"),
            ("  a.b+tag@sub.example.co.kr ", "a.b+tag@sub.example.co.kr"),
            ("o'neil@example.org", "o'neil@example.org"),
            ("사용자@예시.한국", "사용자@예시.한국"),
        ]
    )
    func validEmails(raw: String, normalized: String) throws {
        #expect(try Validators.email(raw) == normalized)
    }

    @Test(
        "invalid emails are 422 naming the field",
        arguments: [
            "", "plain", "@example.com", "a@", "a@b", "a@@b.com", "a b@example.com", ".a@example.com", "a.@example.com", "a..b@example.com",
            "a@-example.com", "a@example-.com", "a@example..com", "a@example.c", "a@example.123", "a@exa_mple.com",
            String(repeating: "a", count: 65) + "@example.com",
        ]
    )
    func invalidEmails(raw: String) {
        #expect(throws: APIError.validation(field: "email", "must be a valid email address")) { try Validators.email(raw) }
    }

    @Test(
        "usernames: 3–50 Unicode letters, digits, _ and -",
        arguments: ["abc", "사용자명", "user_name-1", "Ünïcödé", "日本語ユーザー", "حسن", String(repeating: "가", count: 50)]
    )
    func validUsernames(name: String) throws {
        #expect(try Validators.username(name) == name.precomposedStringWithCanonicalMapping)
    }

    @Test(
        "usernames that are too short, too long or contain other characters are refused",
        arguments: [
            "ab", "가나", String(repeating: "a", count: 51), "has space", "dot.name", "at@sign", "emoji😀", "tab\tname", "semi;colon", "½half",
        ]
    )
    func invalidUsernames(name: String) {
        #expect(throws: APIError.self) { try Validators.username(name) }
        do {
            _ = try Validators.username(name)
        } catch {
            #expect(error.code == "validation_error")
            #expect(error.detail.hasPrefix("username:"))
        }
    }

    @Test("a decomposed username is stored in NFC and counted in characters")
    func decomposedUsername() throws {
        let decomposed = "e\u{301}e\u{301}e\u{301}"  // three é as e + combining acute
        #expect(try Validators.username(decomposed) == "\u{e9}\u{e9}\u{e9}")
    }

    @Test("a username is bounded in bytes and in marks per letter, not only in characters (review L6)")
    func usernameBytes() throws {
        let zalgo = "abc".map { String($0) + String(repeating: "\u{301}\u{302}", count: 350) }.joined()
        #expect(throws: APIError.self) { try Validators.username(zalgo) }
        // "x" has no precomposed form with these marks, so NFC keeps them all.
        #expect(throws: APIError.self) { try Validators.username("x\u{301}\u{302}\u{303}\u{304}\u{305}bc") }
        #expect(try Validators.username("x\u{301}\u{302}\u{303}\u{304}bc").unicodeScalars.count == 7)
        // 40 letters with 4 marks each: within the character and mark limits, 360 bytes.
        #expect(throws: APIError.self) { try Validators.username(String(repeating: "x\u{301}\u{302}\u{303}\u{304}", count: 40)) }
        #expect(try Validators.username(String(repeating: "가", count: 50)) == String(repeating: "가", count: 50))
        #expect(try Validators.username("नमस्ते") == "नमस्ते")
    }

    @Test("the uniqueness key ignores case and compatibility forms")
    func usernameKey() {
        #expect(Validators.usernameKey("Alice") == Validators.usernameKey("aLICE"))
        #expect(Validators.usernameKey("ＡＬＩＣＥ") == Validators.usernameKey("alice"))
        #expect(Validators.usernameKey("ÄRGER") == Validators.usernameKey("ärger"))
        #expect(Validators.usernameKey("사용자명") == "사용자명")
        #expect(Validators.usernameKey("alice") != Validators.usernameKey("alicia"))
    }

    @Test("passwords must be 8–128 characters", arguments: [(7, false), (8, true), (128, true), (129, false)])
    func passwordLength(length: Int, valid: Bool) {
        let password = String(repeating: "p", count: length)
        if valid {
            #expect(throws: Never.self) { try Validators.password(password) }
        } else {
            #expect(throws: APIError.validation(field: "password", "must be 8 to 128 characters long")) { try Validators.password(password) }
        }
    }

    @Test("password length counts characters, not bytes: 128 Korean syllables (384 bytes) are fine")
    func passwordCountsCharacters() throws {
        try Validators.password(String(repeating: "비", count: 128))
        #expect(throws: APIError.self) { try Validators.password(String(repeating: "비", count: 129)) }
    }
}
