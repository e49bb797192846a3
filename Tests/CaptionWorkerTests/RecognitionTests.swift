import ECGEvents
import ECGSpeech
import Foundation
import Synchronization
import Testing

@testable import CaptionWorker

/// One decoder for the whole test process: loading the model takes a moment and the analysis runs one
/// file at a time anyway.
let sharedAnalysis: CaptionAnalysis = {
    do {
        return CaptionAnalysis(decoder: try PocketSphinxDecoder(model: .english()))
    } catch {
        fatalError("the PocketSphinx model did not load: \(error)")
    }
}()

@Suite("Recognition of real speech, end to end through ffmpeg and PocketSphinx", .serialized)
struct RecognitionTests {
    @Test("the LibriVox clips, muxed into mp4, are transcribed with a corpus word error rate below 0.45")
    func libriVoxWordErrorRate() async throws {
        var errors = 0
        var referenceWords = 0
        for clip in try SpeechFixtures.clips() {
            let video = try SpeechFixtures.video(with: clip.audio, name: clip.name)
            let result = try await sharedAnalysis.analyse(video)
            let heard = result.captions.flatMap { WordErrorRate.words($0.text) }
            let reference = WordErrorRate.words(clip.transcript)
            errors += WordErrorRate.errors(reference: reference, hypothesis: heard)
            referenceWords += reference.count

            // Timing follows the speech: captions in order, inside the clip, each with its words.
            let duration = try #require(result.extra["audio_seconds"].flatMap { if case .number(let value) = $0 { value } else { nil } })
            #expect(!result.captions.isEmpty)
            for (caption, next) in zip(result.captions, result.captions.dropFirst()) { #expect(caption.end <= next.start) }
            for caption in result.captions {
                #expect(
                    caption.start >= 0 && caption.end <= duration + 1.0,
                    "\(clip.name) lasts \(duration) s: \(caption.start)–\(caption.end) \(caption.text)"
                )
                #expect(["calm", "neutral", "excited"].contains(caption.emotion))
                // The 7.1-s clip is one breath of speech: it still becomes captions of at most 7 s.
                #expect(caption.end - caption.start <= 7)
                #expect(caption.text.split(separator: "\n").allSatisfy { $0.count <= 42 })
                #expect((0...1).contains(caption.intensity))
                guard case .array(let words) = caption.extra["words"] else {
                    Issue.record("a caption without words")
                    continue
                }
                #expect(words.count == WordErrorRate.words(caption.text).count)
            }
        }
        let wer = Double(errors) / Double(referenceWords)
        print("caption-worker WER on the LibriVox clips: \(String(format: "%.3f", wer)) (\(errors) errors in \(referenceWords) words)")
        #expect(wer < 0.45)
    }

    @Test("the result keeps the seed's shape: analysis_time is an ISO-8601 UTC timestamp, processing time apart")
    func resultShape() async throws {
        let clip = try #require(try SpeechFixtures.clips().first { $0.name.hasSuffix("0880") })
        let result = try await sharedAnalysis.analyse(try SpeechFixtures.video(with: clip.audio, name: clip.name))
        guard case .string(let finished) = result.analysisTime else {
            Issue.record("analysis_time is not a string")
            return
        }
        #expect(finished.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/) != nil)
        guard case .number(let seconds) = result.extra["processing_seconds"] else {
            Issue.record("no processing_seconds")
            return
        }
        #expect(seconds > 0)
        let method = try #require(result.method)
        #expect(method.contains("PocketSphinx"))
        #expect(method.contains("prosody"))
        #expect(!result.emotions.isEmpty)
        let json = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        #expect(!json.contains("<sil>") && !json.contains("[NOISE]") && !json.contains("</s>"))
    }

    @Test("the words of a job never depend on the job before: each utterance is decoded whole, normalised by itself")
    func deterministic() async throws {
        let clips = try SpeechFixtures.clips()
        let first = try SpeechFixtures.video(with: clips[4].audio, name: clips[4].name)
        let other = try SpeechFixtures.video(with: clips[0].audio, name: clips[0].name)
        let before = try await sharedAnalysis.analyse(first).captions.map(\.text)
        _ = try await sharedAnalysis.analyse(other)
        let after = try await sharedAnalysis.analyse(first).captions.map(\.text)
        #expect(before == after)
    }

    @Test("a cancelled analysis stops between chunks of audio")
    func cancelled() async throws {
        let video = try SpeechFixtures.longVideo(minutes: 10)
        let calls = Mutex(0)
        await #expect(throws: CaptionAnalysis.Cancelled.self) {
            _ = try await sharedAnalysis.analyse(
                video,
                isCancelled: {
                    calls.withLock {
                        $0 += 1
                        return $0 > 20
                    }
                }
            )
        }
        #expect(calls.withLock { $0 } == 21, "no chunk is decoded after the cancellation is seen")
    }

    @Test("a video without an audio track completes with no captions and says why")
    func noAudio() async throws {
        let result = try await sharedAnalysis.analyse(try SpeechFixtures.videoWithoutAudio(seconds: 2))
        #expect(result.captions.isEmpty)
        #expect(result.emotions.isEmpty)
        #expect(result.method?.contains("no audio track") == true)
    }

    @Test("a silent video completes with no captions: silence is never labelled as speech")
    func silentVideo() async throws {
        let result = try await sharedAnalysis.analyse(try SpeechFixtures.silentVideo(seconds: 4))
        #expect(result.captions.isEmpty)
        #expect(result.method?.contains("no speech") == true)
    }

    @Test("a file that is no video is rejected for good, without the worker's paths in the message")
    func unreadable() async throws {
        let file = SpeechFixtures.directory.appendingPathComponent("not-a-video.mp4")
        try Data("this is not a video".utf8).write(to: file)
        let error = try await #require(throws: CaptionAnalysis.Rejection.self) { try await sharedAnalysis.analyse(file) }
        #expect(error.code == "unreadable_video")
        #expect(!error.message.contains(SpeechFixtures.directory.path))
    }

    @Test("a language other than English is rejected with unsupported_language")
    func unsupportedLanguage() async throws {
        let clip = try #require(try SpeechFixtures.clips().first)
        let error = try await #require(throws: CaptionAnalysis.Rejection.self) {
            try await sharedAnalysis.analyse(try SpeechFixtures.video(with: clip.audio, name: clip.name), language: "de")
        }
        #expect(error.code == "unsupported_language")
    }

    @Test("a ten-minute video streams through: captions to its end, progress all the way, none longer than 7 s")
    func tenMinutes() async throws {
        let video = try SpeechFixtures.longVideo(minutes: 10)
        let shares = Mutex<[Double]>([])
        let before = ResidentMemory.peakKiB()
        let result = try await sharedAnalysis.analyse(
            video,
            progress: { stage, share in
                if stage == .recognising { shares.withLock { $0.append(share) } }
            }
        )
        let after = ResidentMemory.peakKiB()
        print(
            "caption-worker on a 10-minute video: \(result.captions.count) captions, peak RSS of the test process \(before / 1024) → \(after / 1024) MiB"
        )
        let reported = shares.withLock { $0 }
        #expect(reported.count >= 15)
        #expect(reported == reported.sorted())
        #expect(try #require(result.captions.last).end > 540)
        for caption in result.captions {
            #expect(caption.end - caption.start <= 7)
            #expect(caption.text.split(separator: "\n").count <= 2)
            #expect(caption.text.split(separator: "\n").allSatisfy { $0.count <= 42 })
        }
        // The PCM is streamed: ten minutes of 16 kHz audio would be 18 MiB in memory, plus copies.
        #expect(after - before < 64 * 1024)
    }
}

enum ResidentMemory {
    /// The process's peak resident set (VmHWM), KiB.
    static func peakKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        return line.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
    }
}
