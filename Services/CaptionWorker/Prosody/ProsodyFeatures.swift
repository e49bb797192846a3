import Foundation

/// How a caption was said, measured: loudness, pitch and speech rate.
struct ProsodyFeatures: Sendable, Equatable {
    /// Mean EBU R128 momentary loudness, LUFS.
    var loudness: Double?
    /// Mean F0 of the voiced frames, Hz.
    var pitchMean: Double?
    /// Spread of F0 between its 10th and 90th percentile, semitones.
    var pitchRange: Double?
    /// Words per second on screen.
    var wordsPerSecond: Double

    static func measure(_ cue: CaptionCue, levels: AudioLevels, pitch: PitchTracker) -> ProsodyFeatures {
        let range = cue.start...cue.end
        let f0 = pitch.voicedF0(in: range).sorted()
        var mean: Double?
        var spread: Double?
        // Fewer than five voiced frames (0.1 s) say nothing reliable about pitch.
        if f0.count >= 5 {
            mean = Double(f0.reduce(0, +)) / Double(f0.count)
            let low = Double(f0[f0.count / 10])
            let high = Double(f0[(f0.count * 9) / 10])
            spread = 12 * log2(high / low)
        }
        return ProsodyFeatures(
            loudness: levels.meanLoudness(in: range),
            pitchMean: mean,
            pitchRange: spread,
            wordsPerSecond: Double(cue.words.count) / max(cue.end - cue.start, 0.1)
        )
    }
}

/// The documented mapping from prosody to `intensity` and a label. It reads energy (arousal), not
/// meaning: loud, high, varied and fast speech scores high; quiet, low, flat and slow speech low.
///
/// Each feature becomes a score from 0 to 1:
/// - loudness: −45 LUFS → 0, −15 LUFS → 1;
/// - pitch level: the caption's mean F0 against the speaker's median over the whole video,
///   4 semitones below → 0, the median → 0.5, 4 semitones above → 1;
/// - pitch range: 0 semitones → 0, 12 semitones (an octave) → 1;
/// - speech rate: 1.5 words/s → 0, 4.5 words/s → 1.
/// `intensity` = 0.4 loudness + 0.2 pitch level + 0.2 pitch range + 0.2 rate (a missing feature's
/// weight goes to the others). Label: `excited` from 0.6, `calm` below 0.35, `neutral` between.
struct ProsodyMapping: Sendable {
    static let excitedFrom = 0.6
    static let calmBelow = 0.35

    /// The speaker's median F0 over the whole video, Hz.
    var speakerPitch: Double?

    init(speakerPitch: Double?) {
        self.speakerPitch = speakerPitch
    }

    /// The median of every voiced estimate of the video.
    init(pitch: PitchTracker) {
        let voiced = pitch.estimates.filter { $0 > 0 }.sorted()
        self.speakerPitch = voiced.isEmpty ? nil : Double(voiced[voiced.count / 2])
    }

    func intensity(_ features: ProsodyFeatures) -> Double {
        var scores: [(score: Double, weight: Double)] = [(Self.scale(features.wordsPerSecond, from: 1.5, to: 4.5), 0.2)]
        if let loudness = features.loudness { scores.append((Self.scale(loudness, from: -45, to: -15), 0.4)) }
        if let mean = features.pitchMean, let speakerPitch {
            scores.append((Self.scale(12 * log2(mean / speakerPitch), from: -4, to: 4), 0.2))
        }
        if let range = features.pitchRange { scores.append((Self.scale(range, from: 0, to: 12), 0.2)) }
        let weight = scores.reduce(0) { $0 + $1.weight }
        return scores.reduce(0) { $0 + $1.score * $1.weight } / weight
    }

    static func label(_ intensity: Double) -> String {
        intensity >= excitedFrom ? "excited" : intensity < calmBelow ? "calm" : "neutral"
    }

    private static func scale(_ value: Double, from low: Double, to high: Double) -> Double {
        min(max((value - low) / (high - low), 0), 1)
    }
}
