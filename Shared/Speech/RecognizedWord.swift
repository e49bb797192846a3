/// A word the recogniser heard: its text, when it was said (seconds from the start of the audio) and
/// the recogniser's posterior probability for it (0–1).
package struct RecognizedWord: Sendable, Equatable, Codable {
    package var word: String
    package var start: Double
    package var end: Double
    package var confidence: Double

    package init(word: String, start: Double, end: Double, confidence: Double) {
        self.word = word
        self.start = start
        self.end = end
        self.confidence = confidence
    }
}

/// The recogniser's tokens as caption text: sentence markers, silence and filler tokens are no words,
/// and alternate pronunciations (`read(2)`) are the word itself.
package enum RecognizerToken {
    package static func word(_ token: String) -> String? {
        var word = Substring(token)
        // `<s>`, `</s>`, `<sil>`; `[NOISE]`, `[BREATH]`; `++NOISE++` (older models' fillers).
        if word.hasPrefix("<") || word.hasPrefix("[") || word.hasPrefix("+") { return nil }
        if word.hasSuffix(")"), let open = word.lastIndex(of: "("),
            word[word.index(after: open)..<word.index(before: word.endIndex)].allSatisfy(\.isNumber)
        {
            word = word[..<open]
        }
        return word.isEmpty ? nil : String(word)
    }
}
