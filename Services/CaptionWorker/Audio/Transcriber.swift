import ECGSpeech

/// Hands 16 kHz PCM to the recogniser utterance by utterance. An utterance starts at the first 10 ms
/// frame louder than `speechRMS` (with 0.3 s of audio before it, so that soft onsets are heard) and
/// ends after 0.5 s below it, or at a quiet frame once it is 30 s long (45 s at most): the decoder's
/// search and lattice stay small however long the video is, and long silences cost no decoding.
final class Transcriber {
    static let frameLength = 160  // 10 ms at 16 kHz
    static let speechRMS: Float = 0.01  // about -40 dBFS
    static let prerollFrames = 30
    static let endingSilenceFrames = 50
    static let longUtteranceFrames = 3_000
    static let maximumUtteranceFrames = 4_500

    private let decoder: PocketSphinxDecoder
    private(set) var words: [RecognizedWord] = []
    /// Frames seen so far (the audio's position, in 10 ms).
    private(set) var frameCount = 0
    private var frame: [Int16] = []
    private var preroll: [[Int16]] = []
    private var inUtterance = false
    /// The current utterance's samples (45 s at most: 1.4 MB), decoded whole when it ends.
    private var utterance: [Int16] = []
    private var utteranceStart = 0.0
    private var utteranceFrames = 0
    private var quietFrames = 0

    init(decoder: PocketSphinxDecoder) {
        self.decoder = decoder
        frame.reserveCapacity(Self.frameLength)
    }

    var secondsProcessed: Double { Double(frameCount) / 100 }

    func process(_ samples: UnsafeBufferPointer<Int16>) throws {
        for sample in samples {
            frame.append(sample)
            if frame.count == Self.frameLength {
                try handle(frame)
                frame.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Ends the last utterance and returns every word heard, in time order.
    func finish() throws -> [RecognizedWord] {
        if !frame.isEmpty, inUtterance { utterance += frame }
        if inUtterance { try endUtterance() }
        return words
    }

    private func handle(_ frame: [Int16]) throws {
        defer { frameCount += 1 }
        let loud = Self.rms(frame) >= Self.speechRMS
        if !inUtterance {
            guard loud else {
                preroll.append(frame)
                if preroll.count > Self.prerollFrames { preroll.removeFirst() }
                return
            }
            utteranceStart = Double(frameCount - preroll.count) / 100
            inUtterance = true
            utteranceFrames = preroll.count
            quietFrames = 0
            for earlier in preroll { utterance += earlier }
            preroll.removeAll(keepingCapacity: true)
        }
        utterance += frame
        utteranceFrames += 1
        quietFrames = loud ? 0 : quietFrames + 1
        let paused = quietFrames >= Self.endingSilenceFrames
        let longEnough = utteranceFrames >= Self.longUtteranceFrames && quietFrames >= 10
        if paused || longEnough || utteranceFrames >= Self.maximumUtteranceFrames {
            try endUtterance()
        }
    }

    private func endUtterance() throws {
        inUtterance = false
        words += try utterance.withUnsafeBufferPointer { try decoder.decodeUtterance($0, at: utteranceStart) }
        utterance.removeAll(keepingCapacity: true)
    }

    private static func rms(_ frame: [Int16]) -> Float {
        var sum: Float = 0
        for sample in frame {
            let value = Float(sample) / 32_768
            sum += value * value
        }
        return (sum / Float(frame.count)).squareRoot()
    }
}
