import ECGEvents
import Foundation

/// Turns audio measurements into a result of SPEC.md's shape. An honest reference method: segments are
/// timed to the speech the file contains, emotion and intensity come from loudness, and the text says
/// that no words were recognised.
enum CaptionBuilder {
    static let method = "reference-audio-measurement-v1: ffmpeg silencedetect (-35 dB, 0.3 s) and EBU R128 momentary loudness; no speech recognition"

    static func result(from measurement: AudioMeasurement, analysisTime: Double) -> AnalysisResult {
        guard measurement.hasAudio else {
            return AnalysisResult(captions: [], emotions: [], analysis_time: analysisTime, method: method + " (the video has no audio track)")
        }
        var captions: [AnalysisResult.Caption] = []
        var emotions: [AnalysisResult.Emotion] = []
        for (index, segment) in measurement.speechSegments.enumerated() {
            let loudness = measurement.loudness(in: segment) ?? -70
            let intensity = rounded(min(max((loudness + 60) / 50, 0), 1))
            let label = intensity >= 0.75 ? "excited" : intensity >= 0.45 ? "neutral" : "calm"
            let start = rounded(segment.lowerBound)
            let end = rounded(segment.upperBound)
            captions.append(
                AnalysisResult.Caption(
                    start: start,
                    end: end,
                    text:
                        "[speech \(index + 1): \(String(format: "%.1f", end - start)) s at \(String(format: "%.1f", loudness)) LUFS — measured, not transcribed]",
                    emotion: label,
                    intensity: intensity
                )
            )
            emotions.append(AnalysisResult.Emotion(start: start, end: end, label: label, score: intensity))
        }
        return AnalysisResult(captions: captions, emotions: emotions, analysis_time: rounded(analysisTime), method: method)
    }

    private static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
