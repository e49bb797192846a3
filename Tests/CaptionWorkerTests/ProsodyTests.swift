import ECGEvents
import ECGSpeech
import Foundation
import Testing

@testable import CaptionWorker

@Suite("Emotion and energy from prosody")
struct ProsodyTests {
    func track(_ file: URL) throws -> PitchTracker {
        let data = try Data(contentsOf: file).dropFirst(44)  // the WAV header
        var tracker = PitchTracker()
        data.withUnsafeBytes { tracker.process($0.bindMemory(to: Int16.self)) }
        return tracker
    }

    @Test("YIN finds the pitch of a steady tone", arguments: [110.0, 180.0, 260.0])
    func pitchOfTone(frequency: Double) throws {
        let tracker = try track(try SpeechFixtures.tone(frequency: frequency, seconds: 1))
        let voiced = tracker.voicedF0(in: 0.1...0.9)
        #expect(voiced.count >= 35)
        let mean = Double(voiced.reduce(0, +)) / Double(voiced.count)
        #expect(abs(mean - frequency) / frequency < 0.02)
    }

    @Test("silence has no pitch")
    func silenceIsUnvoiced() throws {
        let tracker = try track(try SpeechFixtures.tone(frequency: 200, seconds: 1, volume: 0.0))
        #expect(tracker.voicedF0(in: 0...1).isEmpty)
    }

    @Test("a real voice's pitch lies in the speaking range")
    func voicePitch() throws {
        let clip = try #require(try SpeechFixtures.clips().first)
        let mapping = ProsodyMapping(pitch: try track(clip.audio))
        let pitch = try #require(mapping.speakerPitch)
        #expect((70...300).contains(pitch))
    }

    @Test("louder, higher, more varied and faster speech is more intense")
    func intensityOrder() {
        let mapping = ProsodyMapping(speakerPitch: 150)
        let calm = ProsodyFeatures(loudness: -40, pitchMean: 130, pitchRange: 1, wordsPerSecond: 1.5)
        let neutral = ProsodyFeatures(loudness: -28, pitchMean: 150, pitchRange: 5, wordsPerSecond: 2.8)
        let excited = ProsodyFeatures(loudness: -16, pitchMean: 190, pitchRange: 11, wordsPerSecond: 4.2)
        let scores = [calm, neutral, excited].map(mapping.intensity)
        #expect(scores == scores.sorted())
        #expect(scores.map(ProsodyMapping.label) == ["calm", "neutral", "excited"])
        #expect(scores.allSatisfy { (0...1).contains($0) })
    }

    @Test("a missing feature does not pull the score down: its weight goes to the others")
    func missingPitch() {
        let mapping = ProsodyMapping(speakerPitch: nil)
        let loudAndFast = ProsodyFeatures(loudness: -15, pitchMean: nil, pitchRange: nil, wordsPerSecond: 4.5)
        #expect(mapping.intensity(loudAndFast) == 1)
    }

    @Test("the emotion timeline merges neighbouring captions with the same label")
    func timeline() {
        let captions = [
            AnalysisResultFixture.caption(0, 2, "calm", 0.2),
            AnalysisResultFixture.caption(2, 3, "calm", 0.3),
            AnalysisResultFixture.caption(3, 5, "excited", 0.8),
        ]
        let emotions = CaptionAnalysis.timeline(captions)
        #expect(emotions.map(\.label) == ["calm", "excited"])
        #expect(emotions[0].start == 0 && emotions[0].end == 3)
        #expect(abs(emotions[0].score - (0.2 * 2 + 0.3) / 3) < 0.001)
    }

    @Test("ffmpeg's silencedetect and ebur128 lines are read")
    func levels() {
        var levels = AudioLevels()
        for line in [
            "[Parsed_silencedetect_0 @ 0x55] silence_start: 0",
            "[Parsed_ebur128_1 @ 0x56] t: 0.1       TARGET:-23 LUFS    M: -120.7 S:-120.7     I: -70.0 LUFS",
            "[Parsed_silencedetect_0 @ 0x55] silence_end: 1.25 | silence_duration: 1.25",
            "[Parsed_ebur128_1 @ 0x56] t: 1.5       TARGET:-23 LUFS    M: -21.5 S:-22.0     I: -21.9 LUFS",
            "[Parsed_silencedetect_0 @ 0x55] silence_start: 3.5",
        ] {
            levels.read(line: Substring(line))
        }
        levels.finish(duration: 4)
        #expect(levels.silences == [0...1.25, 3.5...4])
        #expect(levels.meanLoudness(in: 0...2) == -21.5)
        #expect(levels.silentShare(of: 3.5...4) == 1)
        #expect(levels.silentShare(of: 1.25...3.5) == 0)
    }
}

enum AnalysisResultFixture {
    static func caption(_ start: Double, _ end: Double, _ label: String, _ intensity: Double) -> AnalysisResult.Caption {
        AnalysisResult.Caption(start: start, end: end, text: "x", emotion: label, intensity: intensity)
    }
}
