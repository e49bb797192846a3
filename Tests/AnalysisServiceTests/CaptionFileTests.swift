import ECGEvents
import Foundation
import Testing

@testable import AnalysisService

@Suite("Caption files: WebVTT and SubRip")
struct CaptionFileTests {
    let result = AnalysisResult(
        captions: [
            .init(start: 3.5, end: 5.25, text: "rather cold hearted\nand rather selfish", emotion: "calm", intensity: 0.2),
            .init(start: 0.12, end: 1.9, text: "he was not <an> ill & disposed --> man", emotion: "excited", intensity: 0.8),
            .init(start: 3661.0005, end: 3662.5, text: "an hour later", emotion: "Neutral Tone!", intensity: 0.5),
            .init(start: 7, end: 7, text: "no time on screen", emotion: "neutral", intensity: 0.5),
            .init(start: 8, end: 9, text: "   ", emotion: "neutral", intensity: 0.5),
        ],
        emotions: [],
        analysisTime: .string("2025-09-09T12:30:00Z"),
        extra: ["method": .string("test --> method")]
    )

    @Test("WebVTT: header, STYLE before the cues, a class per emotion and intensity, escaped text, cues in time order")
    func webVTT() {
        let vtt = WebVTT.render(result)
        #expect(vtt.hasPrefix("WEBVTT\n\nSTYLE\n::cue"))
        #expect(vtt.contains("::cue(.excited) {"))
        #expect(vtt.contains("NOTE test -> method\n\n"))
        #expect(
            vtt.contains(
                "1\n00:00:00.120 --> 00:00:01.900\n<c.excited.strong>he was not &lt;an&gt; ill &amp; disposed --&gt; man</c>\n\n"
            )
        )
        #expect(vtt.contains("2\n00:00:03.500 --> 00:00:05.250\n<c.calm.soft>rather cold hearted\nand rather selfish</c>\n\n"))
        #expect(vtt.contains("3\n01:01:01.001 --> 01:01:02.500\n<c.neutraltone.medium>an hour later</c>\n\n"))
        #expect(!vtt.contains("no time on screen"))
        #expect(!vtt.contains("4\n"))
    }

    @Test("SubRip: numbered plain cues with comma milliseconds")
    func subRip() {
        let srt = SubRip.render(result)
        #expect(
            srt == """
                1
                00:00:00,120 --> 00:00:01,900
                he was not <an> ill & disposed --> man

                2
                00:00:03,500 --> 00:00:05,250
                rather cold hearted
                and rather selfish

                3
                01:01:01,001 --> 01:01:02,500
                an hour later

                """
        )
    }

    @Test("a long caption line from another worker is wrapped to 42 characters")
    func wrapping() {
        let lines = CaptionFile.wrapped("had he married a more amiable woman he might have been made still more respectable than he was")
        #expect(lines.allSatisfy { $0.count <= 42 })
        #expect(lines.joined(separator: " ") == "had he married a more amiable woman he might have been made still more respectable than he was")
    }

    @Test("without its STYLE block the WebVTT file is the same cues, classes kept")
    func withoutStyle() {
        let plain = WebVTT.render(result, withStyle: false)
        #expect(!plain.contains("STYLE") && !plain.contains("::cue"))
        #expect(plain.contains("<c.calm.soft>rather cold hearted\nand rather selfish</c>"))
        #expect(WebVTT.render(result).hasSuffix(plain.replacingOccurrences(of: "WEBVTT\n\n", with: "")))
    }

    @Test("ffmpeg reads the WebVTT file (without STYLE, which ffmpeg 5.1 stops at) and finds every cue")
    func ffmpegReadsWebVTT() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-vtt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let vtt = directory.appendingPathComponent("captions.vtt")
        let srt = directory.appendingPathComponent("converted.srt")
        try WebVTT.render(result, withStyle: false).write(to: vtt, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", vtt.path, srt.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let converted = try String(contentsOf: srt, encoding: .utf8)
        #expect(converted.contains("00:00:00,120 --> 00:00:01,900"))
        #expect(converted.contains("rather cold hearted"))
        #expect(converted.contains("01:01:01,001 --> 01:01:02,500"))
    }

    @Test("a completed event from another worker keeps its extra fields, and the seed's analysis_time round-trips")
    func passThrough() throws {
        let json = """
            {"captions":[{"start":0,"end":1.5,"text":"hi","emotion":"happy","intensity":0.9,"speaker":"A"}],
             "emotions":[{"start":0,"end":1.5,"label":"happy","score":0.9}],
             "analysis_time":"2025-09-09T12:30:00Z","model":{"name":"whisper","size":"large"}}
            """
        let decoded = try JSONDecoder().decode(AnalysisResult.self, from: Data(json.utf8))
        #expect(decoded.analysisTime == .string("2025-09-09T12:30:00Z"))
        #expect(decoded.captions[0].extra["speaker"] == .string("A"))
        #expect(decoded.extra["model"] == .object(["name": .string("whisper"), "size": .string("large")]))
        let again = try JSONDecoder().decode(AnalysisResult.self, from: try JSONEncoder().encode(decoded))
        #expect(again == decoded)
    }

    @Test(
        "a result without the seed's required fields is refused",
        arguments: [
            #"{"emotions":[],"analysis_time":"2025-09-09T12:30:00Z"}"#,
            #"{"captions":[{"start":0,"end":1,"emotion":"calm","intensity":0.1}],"emotions":[],"analysis_time":"2025-09-09T12:30:00Z"}"#,
            #"{"captions":[],"emotions":[],"analysis_time":{"at":"noon"}}"#,
        ]
    )
    func required(json: String) {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AnalysisResult.self, from: Data(json.utf8)) }
    }
}
