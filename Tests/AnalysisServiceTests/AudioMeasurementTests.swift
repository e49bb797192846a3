import ECGEvents
import Foundation
import Testing

@testable import AnalysisService

@Suite("The reference worker's audio measurement", .timeLimit(.minutes(1)))
struct AudioMeasurementTests {
    /// A 4 s video: tone 0–1.5 s, silence 1.5–2.5 s, louder tone 2.5–4 s.
    static func makeVideo(at url: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "color=c=black:s=160x120:d=4",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=4",
            "-filter_complex", "[1:a]volume='if(between(t,1.5,2.5),0,if(gt(t,2.5),1.0,0.2))':eval=frame[a]",
            "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-c:a", "aac", "-shortest", url.path,
        ]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test("speech segments follow the silence in the audio, and loudness shapes intensity")
    func measuresSegments() async throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-audio-\(UUID()).mp4")
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.makeVideo(at: url)
        let measurement = try await AudioMeasurement.measure(file: url)
        #expect(measurement.hasAudio)
        #expect(abs(measurement.duration - 4) < 0.2)
        let segments = measurement.speechSegments
        #expect(segments.count == 2)
        #expect(abs(segments[0].upperBound - 1.5) < 0.25)
        #expect(abs(segments[1].lowerBound - 2.5) < 0.25)

        let result = CaptionBuilder.result(from: measurement, analysisTime: 0.5)
        #expect(result.captions.count == 2)
        #expect(result.captions[1].intensity > result.captions[0].intensity)
        #expect(result.captions.allSatisfy { $0.text.contains("not transcribed") })
        #expect(result.method?.contains("no speech recognition") == true)
        #expect(result.emotions.map(\.start) == result.captions.map(\.start))
    }

    @Test("a file that is not media is unreadable")
    func unreadable() async throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-junk-\(UUID()).mp4")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("this is not a video".utf8).write(to: url)
        await #expect(throws: AudioMeasurement.Failure.self) { try await AudioMeasurement.measure(file: url) }
    }

    @Test("a video without audio has no captions and says so")
    func noAudio() throws {
        let measurement = AudioMeasurement(duration: 3, hasAudio: false, silences: [], frames: [])
        let result = CaptionBuilder.result(from: measurement, analysisTime: 0.1)
        #expect(result.captions.isEmpty)
        #expect(result.method?.contains("no audio track") == true)
    }
}
