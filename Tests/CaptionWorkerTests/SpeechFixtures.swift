import Foundation

/// Real speech for tests: the LibriVox recordings Debian's `pocketsphinx-testdata` ships, with their
/// reference transcripts, muxed by ffmpeg into the kind of file users upload (H.264 video, AAC audio).
enum SpeechFixtures {
    static let librivox = URL(fileURLWithPath: "/usr/share/pocketsphinx/test/data/librivox")

    struct Clip: Sendable {
        let name: String
        let transcript: String
        var audio: URL { SpeechFixtures.librivox.appendingPathComponent("\(name).wav") }
    }

    /// The five clips and what is said in them (`transcription`: `<s> words </s> (name)`).
    static func clips() throws -> [Clip] {
        let text = try String(contentsOf: librivox.appendingPathComponent("transcription"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            guard let open = line.lastIndex(of: "("), let close = line.lastIndex(of: ")") else { return nil }
            let name = String(line[line.index(after: open)..<close])
            let words = line[..<open].split(separator: " ").filter { $0 != "<s>" && $0 != "</s>" }
            return Clip(name: name, transcript: words.joined(separator: " "))
        }
    }

    static let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-speech-fixtures")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// An mp4 with a plain video track and `audio` as its sound.
    static func video(with audio: URL, name: String) throws -> URL {
        let output = directory.appendingPathComponent("\(name).mp4")
        if FileManager.default.fileExists(atPath: output.path) { return output }
        try ffmpeg([
            "-f", "lavfi", "-i", "color=c=navy:s=160x120:r=10", "-i", audio.path, "-shortest",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", output.path,
        ])
        return output
    }

    /// `seconds` of video with a silent audio track.
    static func silentVideo(seconds: Int) throws -> URL {
        let output = directory.appendingPathComponent("silent-\(seconds).mp4")
        try ffmpeg([
            "-f", "lavfi", "-i", "color=c=black:s=160x120:r=10:d=\(seconds)", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo:d=\(seconds)",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", output.path,
        ])
        return output
    }

    /// `seconds` of video with no audio track at all.
    static func videoWithoutAudio(seconds: Int) throws -> URL {
        let output = directory.appendingPathComponent("no-audio-\(seconds).mp4")
        try ffmpeg(["-f", "lavfi", "-i", "color=c=gray:s=160x120:r=10:d=\(seconds)", "-c:v", "libx264", "-preset", "ultrafast", output.path])
        return output
    }

    /// A tone of `frequency` Hz, `seconds` long, as 16 kHz WAV.
    static func tone(frequency: Double, seconds: Double, volume: Double = 0.5) throws -> URL {
        let output = directory.appendingPathComponent("tone-\(frequency)-\(seconds)-\(volume).wav")
        try ffmpeg(["-f", "lavfi", "-i", "sine=f=\(frequency):r=16000:d=\(seconds)", "-af", "volume=\(volume)", "-ac", "1", output.path])
        return output
    }

    /// `minutes` of video: one LibriVox clip after another, each followed by 40 s of silence (the
    /// decoder's time grows with the speech, not with the silence between).
    static func longVideo(minutes: Int) throws -> URL {
        let output = directory.appendingPathComponent("long-\(minutes).mp4")
        let list = directory.appendingPathComponent("long-\(minutes).txt")
        let gap = directory.appendingPathComponent("gap.wav")
        try ffmpeg(["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono:d=40", gap.path])
        var entries: [String] = []
        let clips = try clips()
        while entries.count < minutes * 60 / 20 {
            entries.append("file '\(clips[entries.count / 2 % clips.count].audio.path)'")
            entries.append("file '\(gap.path)'")
        }
        try entries.joined(separator: "\n").write(to: list, atomically: true, encoding: .utf8)
        let audio = directory.appendingPathComponent("long-\(minutes).wav")
        try ffmpeg(["-f", "concat", "-safe", "0", "-i", list.path, "-t", "\(minutes * 60)", "-c", "pcm_s16le", audio.path])
        return try video(with: audio, name: "long-\(minutes)")
    }

    static func ffmpeg(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"] + arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FixtureError(arguments: arguments) }
    }

    struct FixtureError: Error {
        let arguments: [String]
    }
}

/// Word error rate: (substitutions + deletions + insertions) / reference words, by edit distance.
enum WordErrorRate {
    static func errors(reference: [String], hypothesis: [String]) -> Int {
        var previous = Array(0...hypothesis.count)
        for (i, expected) in reference.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: hypothesis.count)
            for (j, heard) in hypothesis.enumerated() {
                current[j + 1] = min(previous[j] + (expected == heard ? 0 : 1), previous[j + 1] + 1, current[j] + 1)
            }
            previous = current
        }
        return previous[hypothesis.count]
    }

    static func words(_ text: String) -> [String] {
        text.lowercased().split(whereSeparator: { !$0.isLetter && $0 != "'" }).map(String.init)
    }
}
