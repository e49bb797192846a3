import CPocketSphinx
import Foundation

/// One CMU PocketSphinx decoder: the only code that calls the C API (`CPocketSphinx`).
///
/// A decoder is not thread-safe: one thread feeds it at a time. Loading the model takes a moment and
/// some tens of MiB, so a worker keeps one decoder for all its jobs. Audio is 16 kHz mono signed 16-bit
/// PCM, fed utterance by utterance; word times come back in seconds from the start of the audio.
package final class PocketSphinxDecoder {
    package static let sampleRate = 16_000
    /// PocketSphinx's default frame rate (`-frate 100`): word boundaries are multiples of 10 ms.
    private static let framesPerSecond = 100.0

    package let model: SpeechModel
    private let decoder: OpaquePointer
    private var utteranceStart: TimeInterval = 0
    private var inUtterance = false

    package enum Failure: Error, CustomStringConvertible {
        case modelNotLoaded(String)
        case decoder(String)

        package var description: String {
            switch self {
            case .modelNotLoaded(let reason): "the speech model could not be loaded: \(reason)"
            case .decoder(let call): "PocketSphinx failed in \(call)"
            }
        }
    }

    package init(model: SpeechModel) throws {
        try model.checkFilesExist()
        self.model = model
        // sphinxbase logs every configuration value and per-utterance statistics to stderr; a worker's
        // log is for its own lines.
        err_set_logfp(nil)
        let arguments = [
            "ecg-caption-worker",
            "-hmm", model.acousticModel.path,
            "-lm", model.languageModel.path,
            "-dict", model.dictionary.path,
            // Our own utterance splitter finds the pauses; PocketSphinx's voice-activity detector would
            // drop frames and shift word times.
            "-remove_silence", "no",
            // Each utterance is decoded whole, its cepstral mean taken over itself: the words of one job
            // never depend on the audio of the job before.
            "-cmn", "batch",
            "-logfn", "/dev/null",
        ]
        var cStrings = arguments.map { strdup($0) }
        defer {
            for string in cStrings { free(string) }
        }
        guard let config = cmd_ln_parse_r(nil, ps_args(), Int32(cStrings.count), &cStrings, 1) else {
            throw Failure.modelNotLoaded("PocketSphinx rejected its configuration")
        }
        defer { cmd_ln_free_r(config) }
        guard let decoder = ps_init(config) else {
            throw Failure.modelNotLoaded("ps_init failed for \(model.acousticModel.path)")
        }
        self.decoder = decoder
    }

    deinit {
        ps_free(decoder)
    }

    /// Decodes one whole utterance whose first sample lies `offset` seconds into the audio; returns
    /// its words, fillers and silences removed.
    package func decodeUtterance(_ samples: UnsafeBufferPointer<Int16>, at offset: TimeInterval) throws -> [RecognizedWord] {
        guard let base = samples.baseAddress, !samples.isEmpty else { return [] }
        // The decoder counts frames from the start of its stream; a new stream per utterance makes them
        // count from the utterance, whose place in the audio only we know (silence is never fed).
        guard ps_start_stream(decoder) == 0 else { throw Failure.decoder("ps_start_stream") }
        guard ps_start_utt(decoder) == 0 else { throw Failure.decoder("ps_start_utt") }
        utteranceStart = offset
        inUtterance = true
        guard ps_process_raw(decoder, base, samples.count, 0, 1) >= 0 else { throw Failure.decoder("ps_process_raw") }
        return try endUtterance()
    }

    private func endUtterance() throws -> [RecognizedWord] {
        guard inUtterance else { return [] }
        inUtterance = false
        guard ps_end_utt(decoder) == 0 else { throw Failure.decoder("ps_end_utt") }
        let logMath = ps_get_logmath(decoder)
        var words: [RecognizedWord] = []
        var segment = ps_seg_iter(decoder)
        while let current = segment {
            var startFrame: Int32 = 0
            var endFrame: Int32 = 0
            ps_seg_frames(current, &startFrame, &endFrame)
            var acoustic: Int32 = 0
            var language: Int32 = 0
            var backoff: Int32 = 0
            let posterior = ps_seg_prob(current, &acoustic, &language, &backoff)
            if let token = ps_seg_word(current), let word = RecognizerToken.word(String(cString: token)) {
                words.append(
                    RecognizedWord(
                        word: word,
                        start: utteranceStart + Double(startFrame) / Self.framesPerSecond,
                        // The end frame is inclusive.
                        end: utteranceStart + Double(endFrame + 1) / Self.framesPerSecond,
                        confidence: min(max(logmath_exp(logMath, posterior), 0), 1)
                    )
                )
            }
            segment = ps_seg_next(current)
        }
        return words
    }
}
