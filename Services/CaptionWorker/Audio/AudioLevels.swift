/// What ffmpeg's `silencedetect` and `ebur128` filters logged while the audio was decoded.
struct AudioLevels: Sendable, Equatable {
    struct LoudnessFrame: Sendable, Equatable {
        let time: Double
        /// EBU R128 momentary loudness (400 ms window), LUFS.
        let loudness: Double
    }

    /// Stretches quieter than the silence threshold for at least its minimum duration.
    var silences: [ClosedRange<Double>] = []
    /// One frame every 0.1 s.
    var loudness: [LoudnessFrame] = []
    private var openSilenceStart: Double?

    /// Reads one line of ffmpeg's log (`-loglevel verbose`).
    mutating func read(line: Substring) {
        if let start = Self.value(after: "silence_start: ", in: line) {
            openSilenceStart = max(start, 0)
        } else if let end = Self.value(after: "silence_end: ", in: line) {
            let start = openSilenceStart ?? 0
            if end > start { silences.append(start...end) }
            openSilenceStart = nil
        } else if line.contains("TARGET:"), let time = Self.value(after: "t:", in: line), let value = Self.value(after: "M:", in: line) {
            loudness.append(LoudnessFrame(time: time, loudness: value))
        }
    }

    /// Closes a silence that lasted to the end of the audio.
    mutating func finish(duration: Double) {
        if let start = openSilenceStart, duration > start { silences.append(start...duration) }
        openSilenceStart = nil
    }

    /// Mean momentary loudness over a stretch (frames of digital silence, below -70 LUFS, excluded).
    func meanLoudness(in range: ClosedRange<Double>) -> Double? {
        var sum = 0.0
        var count = 0
        for frame in loudness where range.contains(frame.time) && frame.loudness > -70 {
            sum += frame.loudness
            count += 1
        }
        return count == 0 ? nil : sum / Double(count)
    }

    /// The share of `range` that lies inside detected silences.
    func silentShare(of range: ClosedRange<Double>) -> Double {
        let length = range.upperBound - range.lowerBound
        guard length > 0 else { return silences.contains { $0.contains(range.lowerBound) } ? 1 : 0 }
        let silent = silences.reduce(0.0) { total, silence in
            total + max(0, min(silence.upperBound, range.upperBound) - max(silence.lowerBound, range.lowerBound))
        }
        return min(silent / length, 1)
    }

    /// Whether a whole silence lies between two moments (a pause the captions must not bridge, even
    /// where the recogniser stretched a word over it).
    func hasSilence(between start: Double, and end: Double) -> Bool {
        silences.contains { $0.lowerBound >= start && $0.upperBound <= end }
    }

    private static func value(after marker: String, in line: Substring) -> Double? {
        guard let range = line.range(of: marker) else { return nil }
        let rest = line[range.upperBound...].drop(while: { $0 == " " })
        return Double(rest.prefix(while: { $0.isNumber || $0 == "." || $0 == "-" }))
    }
}
