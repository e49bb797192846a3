import ECGEvents
import Foundation

/// A completed job's captions as a file players read: WebVTT (with the emotion styling) or SubRip.
enum CaptionFile {
    /// The cues worth writing: valid times, in start order, text without blank lines.
    struct Cue: Equatable {
        let start: Double
        let end: Double
        let lines: [String]
        let emotion: String
        let intensity: Double
    }

    static let maximumLineLength = 42

    static func cues(_ result: AnalysisResult) -> [Cue] {
        result.captions
            .filter { $0.start >= 0 && $0.end > $0.start && $0.start.isFinite && $0.end.isFinite }
            .sorted { $0.start < $1.start }
            .compactMap { caption in
                let lines = wrapped(caption.text)
                return lines.isEmpty
                    ? nil : Cue(start: caption.start, end: caption.end, lines: lines, emotion: caption.emotion, intensity: caption.intensity)
            }
    }

    /// The caption's own lines; a long line without breaks (from another worker) is wrapped at word
    /// boundaries to `maximumLineLength`.
    static func wrapped(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).flatMap { line -> [String] in
            var lines: [String] = []
            var current = ""
            for word in line.split(whereSeparator: \.isWhitespace) {
                if !current.isEmpty, current.count + 1 + word.count > maximumLineLength {
                    lines.append(current)
                    current = ""
                }
                current += current.isEmpty ? String(word) : " " + word
            }
            if !current.isEmpty { lines.append(current) }
            return lines
        }
    }

    /// `hh:mm:ss.ttt` (WebVTT) or `hh:mm:ss,ttt` (SubRip).
    static func timestamp(_ seconds: Double, separator: Character) -> String {
        let milliseconds = Int((seconds * 1000).rounded())
        let (hours, rest) = milliseconds.quotientAndRemainder(dividingBy: 3_600_000)
        let (minutes, rest2) = rest.quotientAndRemainder(dividingBy: 60_000)
        let (secs, millis) = rest2.quotientAndRemainder(dividingBy: 1000)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(hours, 2)):\(pad(minutes, 2)):\(pad(secs, 2))\(separator)\(pad(millis, 3))"
    }
}

/// WebVTT (W3C): a `STYLE` block with one `::cue(.label)` rule per emotion and one per intensity
/// level, and each cue's text wrapped in `<c.label.level>…</c>`, so a browser's `<track>` shows the
/// styling with no script.
enum WebVTT {
    static let contentType = "text/vtt; charset=utf-8"

    /// Colour by label, weight and size by intensity (`soft` below 0.35, `strong` from 0.65).
    static let style = """
        STYLE
        ::cue { background-color: rgba(0, 0, 0, 0.75); color: #ffffff; }
        ::cue(.calm) { color: #9fd3ff; }
        ::cue(.neutral) { color: #ffffff; }
        ::cue(.excited) { color: #ffd54f; }
        ::cue(.soft) { opacity: 0.8; font-style: italic; }
        ::cue(.strong) { font-weight: bold; font-size: 110%; }
        """

    /// - Parameter withStyle: false leaves the `STYLE` block out (the cue classes stay): Debian 12's
    ///   ffmpeg 5.1 stops reading a WebVTT file at its first `STYLE` block.
    static func render(_ result: AnalysisResult, withStyle: Bool = true) -> String {
        var output = withStyle ? "WEBVTT\n\n\(style)\n\n" : "WEBVTT\n\n"
        if let method = result.method {
            // A NOTE must not contain "-->"; keep it on one line.
            output += "NOTE \(method.replacingOccurrences(of: "-->", with: "->").replacingOccurrences(of: "\n", with: " "))\n\n"
        }
        for (index, cue) in CaptionFile.cues(result).enumerated() {
            let classes = [className(cue.emotion), level(cue.intensity)].compactMap { $0 }.joined(separator: ".")
            let text = cue.lines.map(escaped).joined(separator: "\n")
            output += "\(index + 1)\n"
            output += "\(CaptionFile.timestamp(cue.start, separator: ".")) --> \(CaptionFile.timestamp(cue.end, separator: "."))\n"
            output += "<c.\(classes)>\(text)</c>\n\n"
        }
        return output
    }

    static func level(_ intensity: Double) -> String {
        intensity < 0.35 ? "soft" : intensity >= 0.65 ? "strong" : "medium"
    }

    /// The label as a cue class: letters, digits, `-` and `_` only (a class may not hold `.`, `&`,
    /// `<`, `>` or white space); nil for a label with nothing usable.
    static func className(_ label: String) -> String? {
        let name = String(
            label.lowercased().unicodeScalars.filter { (("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }.map(
                Character.init
            )
        )
        return name.isEmpty ? nil : name
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

/// SubRip (`.srt`): numbered cues, `hh:mm:ss,ttt` times, plain text.
enum SubRip {
    static let contentType = "application/x-subrip; charset=utf-8"

    static func render(_ result: AnalysisResult) -> String {
        CaptionFile.cues(result).enumerated().map { index, cue in
            "\(index + 1)\n\(CaptionFile.timestamp(cue.start, separator: ",")) --> \(CaptionFile.timestamp(cue.end, separator: ","))\n\(cue.lines.joined(separator: "\n"))\n"
        }.joined(separator: "\n")
    }
}
