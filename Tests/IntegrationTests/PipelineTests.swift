import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// The whole product as a user meets it: upload a real video, analyse it with the reference worker,
/// follow the stream, read captions timed to the audio.
@Suite("Upload to captions, end to end", .enabled(if: StackClient.isAvailable), .timeLimit(.minutes(3)))
struct PipelineTests {
    /// 4 s of video whose audio is a tone, a silent gap from 1.5 s to 2.5 s, then a louder tone.
    static func makeVideo() throws -> Data {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-pipeline-\(UUID()).mp4")
        defer { try? FileManager.default.removeItem(at: url) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "color=c=blue:s=160x120:d=4",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=4",
            "-filter_complex", "[1:a]volume='if(between(t,1.5,2.5),0,if(gt(t,2.5),1.0,0.2))':eval=frame[a]",
            "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-c:a", "aac", "-shortest", url.path,
        ]
        try process.run()
        process.waitUntilExit()
        return try Data(contentsOf: url)
    }

    /// Uploads through a presigned URL and completes the upload; returns the file key.
    static func upload(_ video: Data, token: String) async throws -> String {
        let gateway = StackClient.gateway
        let generated = try await StackClient.call(
            "\(gateway)/api/upload-video/generate-url",
            method: "POST",
            json: #"{"filename": "my clip.mp4", "content_type": "video/mp4", "size_bytes": \#(video.count)}"#,
            token: token
        )
        #expect(generated.status == 200, "\(generated.text)")
        let uploadURL = try #require(generated.json?["upload_url"] as? String)
        let fileKey = try #require(generated.json?["file_key"] as? String)

        var put = HTTPClientRequest(url: uploadURL)
        put.method = .PUT
        put.headers.add(name: "Content-Type", value: "video/mp4")
        put.headers.add(name: "Content-Length", value: String(video.count))
        put.body = .bytes(ByteBuffer(bytes: video))
        let stored = try await StackClient.send(put)
        #expect(stored.status == 200)

        let completed = try await StackClient.call(
            "\(gateway)/api/upload-video/complete",
            method: "POST",
            json: #"{"file_key": "\#(fileKey)"}"#,
            token: token
        )
        #expect(completed.status == 200, "\(completed.text)")
        #expect(completed.json?["status"] as? String == "uploaded")
        return fileKey
    }

    @Test("a real video goes from upload to a completed result whose captions follow its audio")
    func uploadToCaptions() async throws {
        let token = try await StackClient.userToken(userID: StackClient.randomUserID())
        let fileKey = try await Self.upload(try Self.makeVideo(), token: token)

        let request = #"{"video_file_key": "\#(fileKey)", "analysis_type": "full_analysis"}"#
        let idempotencyKey = UUID().uuidString
        let accepted = try await StackClient.call(
            "\(StackClient.gateway)/api/v1/ml/process-video",
            method: "POST",
            json: request,
            token: token,
            headers: [("Idempotency-Key", idempotencyKey)]
        )
        #expect(accepted.status == 202, "\(accepted.text)")
        #expect(accepted.json?["status"] as? String == "processing")
        #expect(accepted.json?["message"] as? String == "비디오 분석이 시작되었습니다.")
        let jobID = try #require(accepted.json?["job_id"] as? String)
        let again = try await StackClient.call(
            "\(StackClient.gateway)/api/v1/ml/process-video",
            method: "POST",
            json: request,
            token: token,
            headers: [("Idempotency-Key", idempotencyKey)]
        )
        #expect(again.json?["job_id"] as? String == jobID, "the same Idempotency-Key returns the same job")

        let stream = try await StackClient.call("\(StackClient.gateway)/api/v1/ml/job-status/\(jobID)/stream", token: token)
        let updates = stream.text.split(separator: "\n").filter { $0.hasPrefix("data: ") }.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.dropFirst(6).utf8)) as? [String: Any]
        }
        let progress = updates.compactMap { $0["progress"] as? Int }
        #expect(progress == progress.sorted(), "progress never decreases: \(progress)")
        let final = try #require(updates.last)
        #expect(final["status"] as? String == "completed", "\(final)")
        #expect(final["progress"] as? Int == 100)
        let result = try #require(final["result"] as? [String: Any])
        let captions = try #require(result["captions"] as? [[String: Any]])
        #expect(captions.count == 2, "two stretches of sound around the silent gap: \(captions)")
        if captions.count == 2 {
            #expect(abs((captions[0]["end"] as? Double ?? 0) - 1.5) < 0.3)
            #expect(abs((captions[1]["start"] as? Double ?? 0) - 2.5) < 0.3)
            #expect((captions[1]["intensity"] as? Double ?? 0) > (captions[0]["intensity"] as? Double ?? 1))
        }
        #expect((result["method"] as? String)?.contains("no speech recognition") == true)
        #expect((result["emotions"] as? [Any])?.count == 2)
    }
}
