import ECGSpeech

/// A caption's words before emotion is added: where it starts and ends and its lines.
struct CaptionCue: Sendable, Equatable {
    var start: Double
    var end: Double
    var lines: [String]
    var words: [RecognizedWord]

    var text: String { lines.joined(separator: "\n") }
}

/// Groups recognised words into captions by `CaptionRules`.
struct CaptionSegmenter: Sendable {
    var rules = CaptionRules()

    /// - Parameter silences: stretches the audio measured as silent; no caption bridges one.
    func cues(from words: [RecognizedWord], silences: AudioLevels = AudioLevels()) -> [CaptionCue] {
        var groups: [[RecognizedWord]] = []
        var current: [RecognizedWord] = []
        for word in words.sorted(by: { $0.start < $1.start }) {
            if let previous = current.last, startsNewCaption(word, after: previous, in: current, silences: silences) {
                groups.append(current)
                current = []
            }
            current.append(word)
        }
        if !current.isEmpty { groups.append(current) }

        var cues: [CaptionCue] = []
        for (index, group) in groups.enumerated() {
            let lines =
                LineBreaker.lines(group.map(\.word), maximumLength: rules.maximumLineLength, maximumLines: rules.maximumLines)
                // A single word longer than a line: it stays whole on its own line.
                ?? [group.map(\.word).joined(separator: " ")]
            let start = group[0].start
            var end = group.last!.end
            // At least `minimumDuration` on screen, as far as the next caption allows.
            let next = index + 1 < groups.count ? groups[index + 1][0].start : Double.infinity
            if end - start < rules.minimumDuration { end = min(start + rules.minimumDuration, max(next, end)) }
            cues.append(CaptionCue(start: start, end: end, lines: lines, words: group))
        }
        return cues
    }

    private func startsNewCaption(_ word: RecognizedWord, after previous: RecognizedWord, in caption: [RecognizedWord], silences: AudioLevels) -> Bool
    {
        if word.start - previous.end >= rules.pause { return true }
        if let last = previous.word.last, ".!?".contains(last) { return true }
        if silences.hasSilence(between: previous.start, and: word.end) { return true }
        if word.end - caption[0].start > rules.maximumDuration { return true }
        let words = caption.map(\.word) + [word.word]
        return LineBreaker.lines(words, maximumLength: rules.maximumLineLength, maximumLines: rules.maximumLines) == nil
    }
}
