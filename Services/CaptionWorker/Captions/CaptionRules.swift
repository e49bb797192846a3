/// Subtitle conventions the captions follow (the common broadcast and streaming guidelines): at most
/// two lines of at most 42 characters, between 1 and 7 seconds on screen, a new caption at a pause of
/// 0.3 s or more or at the end of a sentence, never one caption across a silence.
struct CaptionRules: Sendable {
    var maximumLineLength = 42
    var maximumLines = 2
    var minimumDuration = 1.0
    var maximumDuration = 7.0
    var pause = 0.3
}

/// Breaks a caption's words into lines: as few lines as fit, and as even as possible.
enum LineBreaker {
    /// The lines for `words`, or nil when they do not fit in `maximumLines` lines of `maximumLength`.
    static func lines(_ words: [String], maximumLength: Int, maximumLines: Int) -> [String]? {
        let single = words.joined(separator: " ")
        if single.count <= maximumLength { return [single] }
        guard maximumLines >= 2, words.count >= 2 else { return nil }
        // Two lines: the split that fits and leaves the two lengths closest.
        var best: (lines: [String], difference: Int)?
        for split in 1..<words.count {
            let first = words[..<split].joined(separator: " ")
            let second = words[split...].joined(separator: " ")
            guard first.count <= maximumLength, second.count <= maximumLength else { continue }
            let difference = abs(first.count - second.count)
            if best == nil || difference < best!.difference { best = ([first, second], difference) }
        }
        return best?.lines
    }
}
