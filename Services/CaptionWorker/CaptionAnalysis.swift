import ECGEvents
import ECGSpeech
import Foundation

/// The reference analysis of one video file: decode the audio (ffmpeg), recognise its words
/// (PocketSphinx), group them into captions by subtitle rules, and label each caption's energy from
/// prosody. The result has SPEC.md's shape plus `words` per caption, `processing_seconds`,
/// `audio_seconds`, `language` and `method`.
final class CaptionAnalysis: @unchecked Sendable {
    enum Stage: String, Sendable {
        case downloading
        case decodingAudio = "decoding_audio"
        case recognising
        case buildingCaptions = "building_captions"
    }

    /// A reason the analysis cannot succeed however often it is tried (`retryable: false`).
    struct Rejection: Error, Equatable {
        let code: String
        let message: String
    }

    /// The job was cancelled while it ran.
    struct Cancelled: Error {}

    static let supportedLanguages = ["en"]

    private let decoder: PocketSphinxDecoder
    private let lock = NSLock()
    let audio: AudioDecoder
    let segmenter: CaptionSegmenter

    init(decoder: PocketSphinxDecoder, audio: AudioDecoder = AudioDecoder(), segmenter: CaptionSegmenter = CaptionSegmenter()) {
        self.decoder = decoder
        self.audio = audio
        self.segmenter = segmenter
    }

    static func checkLanguage(_ language: String) throws {
        guard supportedLanguages.contains(language.lowercased()) else {
            throw Rejection(code: "unsupported_language", message: "This worker transcribes English (en) only; the job asked for '\(language)'.")
        }
    }

    var method: String {
        "caption-worker: speech recognised by CMU PocketSphinx 5prealpha (model \(decoder.model.name)) on 16 kHz mono PCM decoded by ffmpeg; "
            + "captions of at most 2 lines of 42 characters, 1–7 s, split at pauses of 0.3 s, sentence ends and silences; "
            + "emotion and intensity from prosody only (EBU R128 loudness, YIN pitch mean and range, words per second), "
            + "not from a model of what was said"
    }

    /// Analyses a local file. `progress` is called from the analysis thread with a stage and the share
    /// of that stage done (0–1).
    func analyse(
        _ file: URL,
        language: String = "en",
        isCancelled: @escaping @Sendable () -> Bool = { false },
        progress: @escaping @Sendable (Stage, Double) -> Void = { _, _ in }
    ) async throws -> AnalysisResult {
        try Self.checkLanguage(language)
        let started = ContinuousClock.now
        let probe: MediaProbe
        do {
            probe = try await MediaProbe.probe(file, ffmpeg: audio.ffmpeg)
        } catch let unreadable as MediaProbe.Unreadable {
            throw Rejection(code: "unreadable_video", message: "The file could not be read as a video: \(unreadable.reason)")
        }
        guard probe.hasAudio else {
            return result(
                cues: [],
                levels: AudioLevels(),
                pitch: PitchTracker(),
                probe: probe,
                language: language,
                started: started,
                note: "the video has no audio track"
            )
        }
        progress(.decodingAudio, 0)
        let (words, levels, pitch) = try await recognise(file, probe: probe, isCancelled: isCancelled, progress: progress)
        progress(.buildingCaptions, 0)
        // Whatever the recogniser made of a silent stretch is not speech.
        let spoken = words.filter { levels.silentShare(of: $0.start...$0.end) < 0.8 }
        let cues = segmenter.cues(from: spoken, silences: levels)
        return result(
            cues: cues,
            levels: levels,
            pitch: pitch,
            probe: probe,
            language: language,
            started: started,
            note: cues.isEmpty ? "no speech was found" : nil
        )
    }

    /// Decodes and recognises on a thread of its own (the decoder blocks while it works).
    private func recognise(
        _ file: URL,
        probe: MediaProbe,
        isCancelled: @escaping @Sendable () -> Bool,
        progress: @escaping @Sendable (Stage, Double) -> Void
    ) async throws -> ([RecognizedWord], AudioLevels, PitchTracker) {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                self.lock.lock()
                defer { self.lock.unlock() }
                do {
                    let transcriber = Transcriber(decoder: self.decoder)
                    var pitch = PitchTracker()
                    var reported = 0.0
                    let levels = try self.audio.decode(file, duration: probe.duration) { samples in
                        if isCancelled() { throw Cancelled() }
                        if transcriber.frameCount == 0 { progress(.recognising, 0) }
                        try transcriber.process(samples)
                        pitch.process(samples)
                        let share = min(transcriber.secondsProcessed / max(probe.duration, 0.1), 1)
                        if share - reported >= 0.05 {
                            reported = share
                            progress(.recognising, share)
                        }
                    }
                    continuation.resume(returning: (try transcriber.finish(), levels, pitch))
                } catch let failure as AudioDecoder.Failure {
                    continuation.resume(
                        throwing: Rejection(code: "unreadable_video", message: "The audio track could not be decoded: \(failure.reason)")
                    )
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    private func result(
        cues: [CaptionCue],
        levels: AudioLevels,
        pitch: PitchTracker,
        probe: MediaProbe,
        language: String,
        started: ContinuousClock.Instant,
        note: String?
    ) -> AnalysisResult {
        let mapping = ProsodyMapping(pitch: pitch)
        var captions: [AnalysisResult.Caption] = []
        for cue in cues {
            let features = ProsodyFeatures.measure(cue, levels: levels, pitch: pitch)
            let intensity = Self.rounded(mapping.intensity(features))
            captions.append(
                AnalysisResult.Caption(
                    start: Self.rounded(cue.start),
                    end: Self.rounded(cue.end),
                    text: cue.text,
                    emotion: ProsodyMapping.label(intensity),
                    intensity: intensity,
                    extra: [
                        "words": .array(
                            cue.words.map { word in
                                .object([
                                    "word": .string(word.word),
                                    "start": .number(Self.rounded(word.start)),
                                    "end": .number(Self.rounded(word.end)),
                                    "confidence": .number(Self.rounded(word.confidence)),
                                ])
                            }
                        ),
                        "prosody": features.json,
                    ]
                )
            )
        }
        let elapsed = ContinuousClock.now - started
        var extra: [String: JSONValue] = [
            "method": .string(note.map { "\(method) (\($0))" } ?? method),
            "processing_seconds": .number(Self.rounded(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)),
            "audio_seconds": .number(Self.rounded(probe.duration)),
            "language": .string(language),
        ]
        if let speaker = mapping.speakerPitch { extra["speaker_pitch_hz"] = .number(Self.rounded(speaker)) }
        return AnalysisResult(
            captions: captions,
            emotions: Self.timeline(captions),
            analysisTime: .string(Self.timestamp(Date())),
            extra: extra
        )
    }

    /// Consecutive captions with the same label, merged: the video's emotion over time, each stretch
    /// scored by its duration-weighted mean intensity.
    static func timeline(_ captions: [AnalysisResult.Caption]) -> [AnalysisResult.Emotion] {
        var emotions: [AnalysisResult.Emotion] = []
        var weighted = 0.0
        for caption in captions {
            let duration = caption.end - caption.start
            if var last = emotions.last, last.label == caption.emotion {
                let previousDuration = last.end - last.start
                weighted += caption.intensity * duration
                last.end = caption.end
                last.score = rounded(weighted / max(previousDuration + duration, 0.001))
                emotions[emotions.count - 1] = last
            } else {
                weighted = caption.intensity * duration
                emotions.append(AnalysisResult.Emotion(start: caption.start, end: caption.end, label: caption.emotion, score: caption.intensity))
            }
        }
        return emotions
    }

    /// `2025-09-09T12:30:00Z`, the seed's form of `analysis_time`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted))
            .replacingOccurrences(of: "+0000", with: "Z")
    }

    static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}

extension ProsodyFeatures {
    var json: JSONValue {
        var fields: [String: JSONValue] = ["words_per_second": .number(CaptionAnalysis.rounded(wordsPerSecond))]
        if let loudness { fields["loudness_lufs"] = .number(CaptionAnalysis.rounded(loudness)) }
        if let pitchMean { fields["pitch_mean_hz"] = .number(CaptionAnalysis.rounded(pitchMean)) }
        if let pitchRange { fields["pitch_range_semitones"] = .number(CaptionAnalysis.rounded(pitchRange)) }
        return .object(fields)
    }
}
