import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// The whole product as a user meets it: upload a real video, analyse it with the reference worker,
/// follow the stream, read captions timed to the audio.
@Suite("Upload to captions, end to end", .enabled(if: StackClient.isAvailable), .timeLimit(.minutes(3)))
struct PipelineTests {
    static let librivox = "/usr/share/pocketsphinx/test/data/librivox"
    static let firstClip = "sense_and_sensibility_01_austen_64kb-0880"
    static let secondClip = "sense_and_sensibility_01_austen_64kb-0930"

    /// What is said in a LibriVox clip, from the reference transcripts of `pocketsphinx-testdata`.
    static func transcript(_ clip: String) throws -> [String] {
        let lines = try String(contentsOfFile: "\(librivox)/transcription", encoding: .utf8).split(separator: "\n")
        let line = try #require(lines.first { $0.hasSuffix("(\(clip))") })
        return line.split(separator: " ").dropLast().filter { $0 != "<s>" && $0 != "</s>" }.map(String.init)
    }

    /// A video of real speech: two LibriVox clips with 1.5 s of silence between them, muxed with a plain
    /// picture into mp4 (H.264, AAC), as a phone would upload it.
    static func makeVideo() throws -> Data {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-pipeline-\(UUID()).mp4")
        defer { try? FileManager.default.removeItem(at: url) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "color=c=navy:s=160x120:r=10",
            "-i", "\(librivox)/\(firstClip).wav", "-i", "\(librivox)/\(secondClip).wav",
            "-filter_complex", "[1:a]apad=pad_dur=1.5[first];[first][2:a]concat=n=2:v=0:a=1[a]",
            "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", url.path,
        ]
        try process.run()
        process.waitUntilExit()
        return try Data(contentsOf: url)
    }

    /// Word error rate of `heard` against `said` (edit distance over words).
    static func wordErrorRate(said: [String], heard: [String]) -> Double {
        var previous = Array(0...heard.count)
        for (i, expected) in said.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: heard.count)
            for (j, word) in heard.enumerated() {
                current[j + 1] = min(previous[j] + (expected == word ? 0 : 1), previous[j + 1] + 1, current[j] + 1)
            }
            previous = current
        }
        return Double(previous[heard.count]) / Double(max(said.count, 1))
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
        let heard = captions.flatMap { ($0["text"] as? String ?? "").split(whereSeparator: \.isWhitespace).map(String.init) }
        let said = try Self.transcript(Self.firstClip) + Self.transcript(Self.secondClip)
        let wer = Self.wordErrorRate(said: said, heard: heard)
        #expect(wer < 0.45, "heard \(heard) for \(said): WER \(wer)")
        // Timing follows the speech: no caption spans the 1.5 s of silence after the first clip (2.99 s).
        #expect(captions.contains { ($0["end"] as? Double ?? 99) <= 3.3 }, "\(captions)")
        #expect(captions.contains { ($0["start"] as? Double ?? 0) >= 4.2 }, "\(captions)")
        #expect(!captions.contains { ($0["start"] as? Double ?? 0) < 3.2 && ($0["end"] as? Double ?? 0) > 4.6 }, "\(captions)")
        for caption in captions {
            #expect((caption["words"] as? [[String: Any]])?.isEmpty == false)
            #expect(["calm", "neutral", "excited"].contains(caption["emotion"] as? String ?? ""))
        }
        #expect((result["method"] as? String)?.contains("PocketSphinx") == true)
        #expect((result["analysis_time"] as? String)?.hasSuffix("Z") == true)
        #expect(result["processing_seconds"] is Double)
        #expect((result["emotions"] as? [Any])?.isEmpty == false)

        let vtt = try await StackClient.call("\(StackClient.gateway)/api/v1/ml/jobs/\(jobID)/captions.vtt", token: token)
        #expect(vtt.status == 200)
        #expect(vtt.text.hasPrefix("WEBVTT"))
        #expect(vtt.text.contains("<c."))
        let srt = try await StackClient.call("\(StackClient.gateway)/api/v1/ml/jobs/\(jobID)/captions.srt", token: token)
        #expect(srt.status == 200)
        #expect(srt.text.hasPrefix("1\n00:00:0"))
    }

    @Test("a job asking for a language the worker does not speak fails for good with unsupported_language")
    func unsupportedLanguage() async throws {
        let token = try await StackClient.userToken(userID: StackClient.randomUserID())
        let fileKey = try await Self.upload(try Self.makeVideo(), token: token)
        let accepted = try await StackClient.call(
            "\(StackClient.gateway)/api/v1/ml/process-video",
            method: "POST",
            json: #"{"video_file_key": "\#(fileKey)", "analysis_type": "caption_generation", "language": "ko"}"#,
            token: token
        )
        #expect(accepted.status == 202, "\(accepted.text)")
        let jobID = try #require(accepted.json?["job_id"] as? String)
        let stream = try await StackClient.call("\(StackClient.gateway)/api/v1/ml/job-status/\(jobID)/stream", token: token)
        let last = stream.text.split(separator: "\n").last { $0.hasPrefix("data: ") }.flatMap {
            try? JSONSerialization.jsonObject(with: Data($0.dropFirst(6).utf8)) as? [String: Any]
        }
        #expect(last?["status"] as? String == "failed")
        #expect((last?["error"] as? [String: Any])?["code"] as? String == "unsupported_language")

        let invalid = try await StackClient.call(
            "\(StackClient.gateway)/api/v1/ml/process-video",
            method: "POST",
            json: #"{"video_file_key": "\#(fileKey)", "analysis_type": "caption_generation", "language": "english please"}"#,
            token: token
        )
        #expect(invalid.status == 422)
    }
}
