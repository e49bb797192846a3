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
}
