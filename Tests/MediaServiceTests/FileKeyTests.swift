import ECGPlatform
import Foundation
import Testing

@testable import MediaService

@Suite("File keys: uploads/<uuid>/<sanitized filename>")
struct FileKeyTests {
    @Test(
        "sanitizing keeps a readable name and the extension",
        arguments: [
            ("holiday.mp4", "video/mp4", "holiday.mp4"),
            ("My Holiday Video (final).MOV", "video/quicktime", "My_Holiday_Video_final.MOV"),
            ("비디오 파일.webm", "video/webm", "비디오_파일.webm"),
            ("café-déjà_vu.mkv", "video/x-matroska", "café-déjà_vu.mkv"),
            ("../../etc/passwd", "video/mp4", "passwd.mp4"),
            ("C:\\Users\\me\\clip.avi", "video/x-msvideo", "clip.avi"),
            ("..", "video/mp4", "video.mp4"),
            (".hidden.mp4", "video/mp4", "hidden.mp4"),
            ("no extension", "video/webm", "no_extension.webm"),
            ("a%2Fb?c#d&e=f.mp4", "video/mp4", "a_2Fb_c_d_e_f.mp4"),
            ("line\nbreak\u{0}.mp4", "video/mp4", "line_break.mp4"),
            ("🎬🎬🎬.mp4", "video/mp4", "video.mp4"),
            ("clip.tar.gz", "video/mp4", "clip.tar.gz"),
            ("trailing dots....", "video/mp4", "trailing_dots.mp4"),
            ("a!\"$'*+,;<>@[]^`{|}~b\r\nc\td.mp4", "video/mp4", "a_b_c_d.mp4"),
        ]
    )
    func sanitize(filename: String, contentType: String, expected: String) {
        #expect(FileKey.sanitize(filename: filename, contentType: contentType) == expected)
    }

    @Test("decomposed Unicode (macOS file names) is normalized to NFC")
    func normalization() {
        let decomposed = "cafe\u{301}.mp4"
        #expect(FileKey.sanitize(filename: decomposed, contentType: "video/mp4") == "caf\u{E9}.mp4")
    }

    @Test("very long names are cut to 200 bytes, keeping the extension and whole characters")
    func longNames() {
        let name = FileKey.sanitize(filename: String(repeating: "가", count: 300) + ".mp4", contentType: "video/mp4")
        #expect(name.utf8.count <= FileKey.maxNameBytes)
        #expect(name.hasSuffix(".mp4"))
        #expect(name.hasPrefix("가가"))
        let ascii = FileKey.sanitize(filename: String(repeating: "a", count: 1000), contentType: "video/webm")
        #expect(ascii.utf8.count == FileKey.maxNameBytes)
        #expect(ascii.hasSuffix(".webm"))
    }

    @Test("keys are uploads/<lower-case uuid>/<name>")
    func make() throws {
        let id = try #require(UUID(uuidString: "6F9619FF-8B86-D011-B42D-00C04FC964FF"))
        #expect(FileKey.make(filename: "a b.mp4", contentType: "video/mp4", id: id) == "uploads/6f9619ff-8b86-d011-b42d-00c04fc964ff/a_b.mp4")
    }

    @Test("a route's catch-all is percent-decoded once; bad encodings and oversize keys name nothing")
    func fromPath() {
        #expect(FileKey.fromPath("uploads/x/a%20b.mp4") == "uploads/x/a b.mp4")
        #expect(FileKey.fromPath("uploads%2Fx%2Fa.mp4") == "uploads/x/a.mp4")
        #expect(FileKey.fromPath("uploads%252Fx") == "uploads%2Fx")
        #expect(FileKey.fromPath("uploads/%EB%B9%84.mp4") == "uploads/비.mp4")
        #expect(FileKey.fromPath("bad%ZZ") == nil)
        #expect(FileKey.fromPath("a%00b") == nil)
        #expect(FileKey.fromPath("%FF%FE") == nil)
        #expect(FileKey.fromPath("") == nil)
        #expect(FileKey.fromPath(nil) == nil)
        #expect(FileKey.fromPath(Substring(String(repeating: "a", count: 1025))) == nil)
    }

    @Test(
        "a filename is trimmed and checked the same on the ASCII path as by Foundation and Unicode's categories",
        arguments: [
            "clip.mp4", "  clip.mp4\n", "\tclip.mp4", "a b.mp4", "\u{A0}clip.mp4\u{3000}", "\u{2003}\u{85}", "   ",
            "비디오.webm", "café.mp4 ", "a\u{0}b", "a\u{7F}b", "a\u{9F}b", "a\u{200B}b", "a\rb", "~!@#$%^&*()_+{}|:\"<>?",
        ]
    )
    func uploadFilename(raw: String) {
        #expect(UploadFilename.trimmed(raw) == raw.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(UploadFilename.containsControlCharacters(raw) == raw.unicodeScalars.contains { $0.properties.generalCategory == .control })
    }

    @Test("generate-url's filename: empty after trimming, over 255 characters or 1024 bytes, or with control characters is refused")
    func uploadFilenameLimits() throws {
        #expect(try UploadFilename.validated("  clip.mp4 ") == "clip.mp4")
        #expect(try UploadFilename.validated(String(repeating: "가", count: 255)).count == 255)
        #expect(try UploadFilename.validated(String(repeating: "e\u{301}", count: 255)).count == 255)
        for refused in ["", " \n", String(repeating: "a", count: 256), String(repeating: "가", count: 256), "a\u{1B}[31m.mp4", "a\u{85}b"] {
            #expect(throws: APIError.self, "\(refused.debugDescription)") { try UploadFilename.validated(refused) }
        }
    }
}
