import ECGSpeech
import Testing

@testable import CaptionWorker

@Suite("Captions from words")
struct CaptionSegmenterTests {
    let segmenter = CaptionSegmenter()

    /// Words of `length` seconds each, `gap` apart, from `start`.
    func words(_ text: String, from start: Double = 0, length: Double = 0.3, gap: Double = 0.05) -> [RecognizedWord] {
        text.split(separator: " ").enumerated().map { index, word in
            let begin = start + Double(index) * (length + gap)
            return RecognizedWord(word: String(word), start: begin, end: begin + length, confidence: 0.9)
        }
    }

    @Test("a pause of 0.3 s or more starts a new caption")
    func pause() {
        let cues = segmenter.cues(from: words("he was not") + words("an ill disposed young man", from: 1.35))
        #expect(cues.map(\.text) == ["he was not", "an ill disposed young man"])
    }

    @Test("a shorter pause keeps the words together")
    func shortPause() {
        let cues = segmenter.cues(from: words("he was not") + words("an ill", from: 1.25))
        #expect(cues.map(\.text) == ["he was not an ill"])
    }

    @Test("a sentence end starts a new caption")
    func sentenceEnd() {
        let cues = segmenter.cues(from: words("it rained. we stayed in"))
        #expect(cues.map(\.text) == ["it rained.", "we stayed in"])
    }

    @Test("no line is longer than 42 characters and no caption has more than two lines")
    func lineLimits() {
        let text = Array(repeating: "considerably", count: 20).joined(separator: " ")
        let cues = segmenter.cues(from: words(text, length: 0.1, gap: 0.02))
        #expect(cues.count > 1)
        for cue in cues {
            #expect(cue.lines.count <= 2)
            #expect(cue.lines.allSatisfy { $0.count <= 42 })
        }
        #expect(cues.flatMap(\.words).count == 20)
    }

    @Test("two lines are balanced")
    func balancedLines() {
        let cues = segmenter.cues(from: words("and mister john dashwood had then leisure to consider how much there might be"))
        #expect(cues.count == 1)
        #expect(cues[0].lines == ["and mister john dashwood had then leisure", "to consider how much there might be"])
        #expect(cues[0].text == "and mister john dashwood had then leisure\nto consider how much there might be")
    }

    @Test("no caption is longer than seven seconds")
    func maximumDuration() {
        // Slow speech: one short word every 0.55 s, no pause long enough to split on.
        let cues = segmenter.cues(from: words(Array(repeating: "so", count: 30).joined(separator: " "), length: 0.45, gap: 0.1))
        #expect(cues.count >= 3)
        #expect(cues.allSatisfy { $0.end - $0.start <= 7 })
    }

    @Test("a short caption stays at least one second, unless the next one starts sooner")
    func minimumDuration() {
        let cues = segmenter.cues(from: words("yes", length: 0.2) + words("no", from: 0.8, length: 0.2) + words("maybe", from: 5, length: 0.3))
        #expect(cues.count == 3)
        #expect(cues[0].end == 0.8)
        #expect(abs(cues[1].end - 1.8) < 1e-9)
        #expect(abs(cues[2].end - 6.0) < 1e-9)
    }

    @Test("no caption bridges a measured silence, even when the recogniser stretched a word over it")
    func silence() {
        var levels = AudioLevels()
        levels.read(line: "[silencedetect @ 0x1] silence_start: 1.0")
        levels.read(line: "[silencedetect @ 0x1] silence_end: 1.6 | silence_duration: 0.6")
        let stretched = [
            RecognizedWord(word: "well", start: 0.5, end: 1.55, confidence: 0.5),
            RecognizedWord(word: "then", start: 1.6, end: 1.9, confidence: 0.9),
        ]
        let cues = segmenter.cues(from: stretched, silences: levels)
        #expect(cues.map(\.text) == ["well", "then"])
    }

    @Test("the recogniser's fillers and alternate pronunciations never reach the text")
    func fillers() {
        #expect(RecognizerToken.word("<s>") == nil)
        #expect(RecognizerToken.word("</s>") == nil)
        #expect(RecognizerToken.word("<sil>") == nil)
        #expect(RecognizerToken.word("[NOISE]") == nil)
        #expect(RecognizerToken.word("[BREATH]") == nil)
        #expect(RecognizerToken.word("++UM++") == nil)
        #expect(RecognizerToken.word("read(2)") == "read")
        #expect(RecognizerToken.word("dashwood") == "dashwood")
        #expect(RecognizerToken.word("r2d2(3)") == "r2d2")
    }
}
