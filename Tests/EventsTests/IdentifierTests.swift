import ECGEvents
import Foundation
import Testing

/// The ids events and routes carry: one spelling each on the wire, refused when they do not parse.
@Suite("identifiers")
struct IdentifierTests {
    @Test("a user id is the canonical decimal text of a positive integer")
    func userID() throws {
        #expect(UserID("42")?.rawValue == 42)
        #expect(UserID("9223372036854775807")?.rawValue == .max)
        for text in ["", "0", "-1", "+1", "042", " 42", "42 ", "4_2", "9223372036854775808", "x", "１２"] {
            #expect(UserID(text) == nil, "\(text)")
        }
        #expect(String(decoding: try JSONEncoder().encode([UserID(7)]), as: UTF8.self) == #"["7"]"#)
        #expect(try JSONDecoder().decode([UserID].self, from: Data(#"["7"]"#.utf8)) == [UserID(7)])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([UserID].self, from: Data(#"["seven"]"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([UserID].self, from: Data("[7]".utf8)) }
    }

    @Test("a job id is a UUID written in lower case")
    func jobID() throws {
        let id = try #require(JobID("0B7A5E9E-6B1E-4D2A-9A43-6C1F2D3E4F50"))
        #expect(id.description == "0b7a5e9e-6b1e-4d2a-9a43-6c1f2d3e4f50")
        #expect(String(decoding: try JSONEncoder().encode([id]), as: UTF8.self) == #"["0b7a5e9e-6b1e-4d2a-9a43-6c1f2d3e4f50"]"#)
        #expect(JobID("j1") == nil)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([JobID].self, from: Data(#"["j1"]"#.utf8)) }
    }

    @Test("a video key is the object key as it came")
    func videoKey() throws {
        let key = VideoKey("uploads/0b7a5e9e-6b1e-4d2a-9a43-6c1f2d3e4f50/talk.mp4")
        #expect(String(decoding: try JSONEncoder().encode([key]), as: UTF8.self).contains("uploads\\/0b7a5e9e"))
        #expect(try JSONDecoder().decode([VideoKey].self, from: try JSONEncoder().encode([key])) == [key])
    }

    @Test("a random UUID is version 4 with RFC 9562's variant, and a new one each time")
    func randomUUID() {
        var seen = Set<UUID>()
        for _ in 0..<1_000 {
            let uuid = UUID.random()
            #expect(uuid.uuid.6 >> 4 == 4)
            #expect(uuid.uuid.8 >> 6 == 0b10)
            seen.insert(uuid)
        }
        #expect(seen.count == 1_000)
    }

    @Test("a UUID's text is Foundation's, in lower case")
    func lowercasedString() throws {
        let known = try #require(UUID(uuidString: "0B7A5E9E-6B1E-4D2A-9A43-6C1F2D3E4F50"))
        #expect(known.lowercasedString == "0b7a5e9e-6b1e-4d2a-9a43-6c1f2d3e4f50")
        #expect(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)).lowercasedString == "00000000-0000-0000-0000-000000000000")
        for _ in 0..<100 {
            let uuid = UUID()
            #expect(uuid.lowercasedString == uuid.uuidString.lowercased())
        }
    }

    @Test("version-4 bits are laid out most significant byte first, with version and variant set")
    func version4Bits() {
        let uuid = UUID(version4Bits: 0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210)
        #expect(uuid.lowercasedString == "01234567-89ab-4def-bedc-ba9876543210")
        #expect(UUID(version4Bits: .max, .max).lowercasedString == "ffffffff-ffff-4fff-bfff-ffffffffffff")
        #expect(UUID(version4Bits: 0, 0).lowercasedString == "00000000-0000-4000-8000-000000000000")
    }
}
