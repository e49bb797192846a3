import Testing

@testable import AnalysisService

@Suite("The internal video lookup's path")
struct MediaClientTests {
    @Test("each segment of the key is percent-encoded; the separators stay")
    func encoding() {
        #expect(MediaClient.path(fileKey: "uploads/7f2c/talk.mp4") == "/internal/videos/uploads/7f2c/talk.mp4")
        #expect(MediaClient.path(fileKey: "uploads/a b/x?y#z%.mp4") == "/internal/videos/uploads/a%20b/x%3Fy%23z%25.mp4")
        #expect(MediaClient.path(fileKey: "uploads/비디오.mp4") == "/internal/videos/uploads/%EB%B9%84%EB%94%94%EC%98%A4.mp4")
        #expect(MediaClient.path(fileKey: "uploads/a;b=c/x.mp4") == "/internal/videos/uploads/a%3Bb%3Dc/x.mp4")
    }

    @Test("a key with a dot segment or an empty segment is no video: it is never sent (a proxy could normalise it elsewhere)")
    func dotSegments() {
        for key in ["../../.well-known/jwks.json", "uploads/../x", "uploads/./x", "..", ".", "uploads//x", "/uploads/x", "uploads/x/"] {
            #expect(MediaClient.path(fileKey: key) == nil, "\(key)")
        }
        #expect(MediaClient.path(fileKey: "uploads/..x/x..mp4") == "/internal/videos/uploads/..x/x..mp4")
    }
}
