import ECGEvents
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import MediaService

@Suite("media routes: deleting videos and pages of videos (in memory)")
struct VideoLifecycleRoutesTests {
    @Test("DELETE removes the object and the record, announces video.deleted, and is the owner's alone")
    func deleteVideo() async throws {
        let harness = try MediaHarness()
        try await harness.test { client in
            let token = try await harness.userToken(1)
            let key = try await client.newFileKey(token: token)
            harness.storage.put(key, size: 42)
            _ = try await client.call("/api/upload-video/complete", .post, token: token, json: #"{"file_key":"\#(key)"}"#)

            let stranger = try await client.call("/api/upload-video/videos/\(key)", .delete, token: try await harness.userToken(2))
            #expect(stranger.status == 404, "someone else's video is 404")
            #expect(try await harness.repository.find(fileKey: VideoKey(key)) != nil)

            let deleted = try await client.call("/api/upload-video/videos/\(key)", .delete, token: token)
            #expect(deleted.status == 204)
            #expect(try await harness.repository.find(fileKey: VideoKey(key)) == nil)
            #expect(harness.storage.objects.withLock { $0[key] } == nil)
            #expect(harness.repository.deletedEvents.map(\.data) == [VideoDeleted(fileKey: VideoKey(key), ownerID: 1)])
            #expect(harness.repository.deletedEvents.first?.subject == key)

            #expect(try await client.call("/api/upload-video/videos/\(key)", .delete, token: token).status == 404)
            #expect(try await client.call("/api/upload-video/videos/\(key)", .delete, token: nil).status == 401)
        }
    }

    @Test("DELETE while S3 is unreachable answers 503 and keeps the record, so a retry can finish")
    func deleteWithStorageDown() async throws {
        let harness = try MediaHarness()
        try await harness.test { client in
            let token = try await harness.userToken(1)
            let key = try await client.newFileKey(token: token)
            harness.storage.failing.store(true, ordering: .relaxed)
            let reply = try await client.call("/api/upload-video/videos/\(key.replacingOccurrences(of: "/", with: "%2F"))", .delete, token: token)
            #expect(reply.status == 503)
            #expect(reply.json["code"] as? String == "storage_unavailable")
            #expect(try await harness.repository.find(fileKey: VideoKey(key)) != nil)
            #expect(harness.repository.deletedEvents.isEmpty)
        }
    }

    @Test("pages of 2 cover every video once, newest first, with next_cursor null on the last")
    func pages() async throws {
        let harness = try MediaHarness()
        try await harness.test { client in
            let token = try await harness.userToken(1)
            var keys: [String] = []
            for index in 0..<5 { keys.append(try await client.newFileKey(token: token, filename: "v\(index).mp4")) }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let query = "/api/upload-video/videos?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                let reply = try await client.call(query, token: token)
                #expect(reply.status == 200)
                let items = try #require(reply.json["items"] as? [[String: Any]])
                #expect(items.count <= 2)
                seen += items.compactMap { $0["file_key"] as? String }
                cursor = reply.json["next_cursor"] as? String
                #expect(reply.json.keys.contains("next_cursor"))
                pages += 1
                if pages == 1 {
                    // A video added after the first page does not shift the pages that follow.
                    _ = try await client.newFileKey(token: token, filename: "late.mp4")
                }
            } while cursor != nil && pages < 10
            #expect(seen == Array(keys.reversed()))
            #expect(pages == 3)
        }
    }

    @Test(
        "limit defaults to 20; bad limit or cursor is 422 naming it",
        arguments: ["limit=0", "limit=101", "limit=ten", "cursor=%%%", "cursor=bm90LWEtY3Vyc29y"]
    )
    func badPageParameters(query: String) async throws {
        let harness = try MediaHarness()
        try await harness.test { client in
            let token = try await harness.userToken(1)
            let reply = try await client.call("/api/upload-video/videos?\(query)", token: token)
            #expect(reply.status == 422)
            #expect((reply.json["detail"] as? String)?.hasPrefix(String(query.prefix { $0 != "=" })) == true)
        }
    }
}
