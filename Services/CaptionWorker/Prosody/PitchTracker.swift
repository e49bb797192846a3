/// Estimates the fundamental frequency (F0) of speech with the YIN method (de Cheveigné & Kawahara,
/// 2002) on 16 kHz PCM fed in chunks, one estimate every 20 ms. The signal is halved to 8 kHz first
/// (averaging pairs of samples), which keeps the speech F0 range (70–400 Hz) and quarters the work.
struct PitchTracker {
    static let inputRate = 16_000
    static let rate = 8_000
    static let hop = 160  // 20 ms at 8 kHz
    static let window = 240  // 30 ms: two periods of the lowest F0
    static let minimumF0 = 70.0
    static let maximumF0 = 400.0
    /// YIN's absolute threshold on the cumulative-mean-normalised difference.
    static let threshold: Float = 0.15
    /// Frames quieter than this RMS (about -40 dBFS) are not voiced speech.
    static let minimumRMS: Float = 0.01

    static var secondsPerEstimate: Double { Double(hop) / Double(rate) }
    private static let minimumLag = Int(Double(rate) / maximumF0)
    private static let maximumLag = Int(Double(rate) / minimumF0)
    private static let span = window + maximumLag

    /// One value per 20 ms from the start of the audio: F0 in Hz, or 0 where no voiced speech was found.
    private(set) var estimates: [Float] = []
    private var buffer: [Float] = []
    private var pendingSample: Float?
    private var difference = [Float](repeating: 0, count: maximumLag + 1)

    mutating func process(_ samples: UnsafeBufferPointer<Int16>) {
        buffer.reserveCapacity(Self.span + samples.count / 2)
        for sample in samples {
            let value = Float(sample) / 32_768
            if let first = pendingSample {
                buffer.append((first + value) / 2)
                pendingSample = nil
            } else {
                pendingSample = value
            }
        }
        var start = 0
        while buffer.count - start >= Self.span {
            estimates.append(estimate(at: start))
            start += Self.hop
        }
        if start > 0 { buffer.removeFirst(start) }
    }

    /// The estimates inside a stretch of time, voiced ones only.
    func voicedF0(in range: ClosedRange<Double>) -> [Float] {
        let first = max(0, Int(range.lowerBound / Self.secondsPerEstimate))
        let last = min(estimates.count - 1, Int(range.upperBound / Self.secondsPerEstimate))
        guard first <= last else { return [] }
        return estimates[first...last].filter { $0 > 0 }
    }

    private mutating func estimate(at start: Int) -> Float {
        buffer.withUnsafeBufferPointer { signal in
            let x = UnsafeBufferPointer(rebasing: signal[start..<(start + Self.span)])
            var energy: Float = 0
            for index in 0..<Self.window { energy += x[index] * x[index] }
            guard (energy / Float(Self.window)).squareRoot() >= Self.minimumRMS else { return 0 }
            return difference.withUnsafeMutableBufferPointer { d in
                // d(τ) = Σ (x[j] − x[j+τ])², then normalised by its running mean.
                var runningSum: Float = 0
                d[0] = 1
                for lag in 1...Self.maximumLag {
                    var sum: Float = 0
                    for index in 0..<Self.window {
                        let delta = x[index] - x[index + lag]
                        sum += delta * delta
                    }
                    runningSum += sum
                    d[lag] = runningSum > 0 ? sum * Float(lag) / runningSum : 1
                }
                var lag = Self.minimumLag
                while lag <= Self.maximumLag {
                    if d[lag] < Self.threshold {
                        while lag + 1 <= Self.maximumLag, d[lag + 1] < d[lag] { lag += 1 }
                        return Float(Self.rate) / Self.refined(lag, d)
                    }
                    lag += 1
                }
                return 0
            }
        }
    }

    /// The minimum between lags, by a parabola through the three values around it.
    private static func refined(_ lag: Int, _ d: UnsafeMutableBufferPointer<Float>) -> Float {
        guard lag > 1, lag < maximumLag else { return Float(lag) }
        let (left, centre, right) = (d[lag - 1], d[lag], d[lag + 1])
        let denominator = left - 2 * centre + right
        guard denominator != 0 else { return Float(lag) }
        return Float(lag) + 0.5 * (left - right) / denominator
    }
}
