import Foundation

/// What a completed job carries (SPEC.md §3 row 11). The seed's fields are checked; anything else a
/// worker adds (`method`, `processing_seconds`, a caption's `words`, or fields of a future worker) is
/// kept as it came and passed through to clients.
package struct AnalysisResult: Codable, Sendable, Equatable {
    package struct Caption: Codable, Sendable, Equatable {
        package var start: Double
        package var end: Double
        package var text: String
        package var emotion: String
        package var intensity: Double
        /// Fields beyond the seed's, e.g. `words`.
        package var extra: [String: JSONValue]

        package init(start: Double, end: Double, text: String, emotion: String, intensity: Double, extra: [String: JSONValue] = [:]) {
            self.start = start
            self.end = end
            self.text = text
            self.emotion = emotion
            self.intensity = intensity
            self.extra = extra
        }

        private enum CodingKeys: String, CodingKey, CaseIterable { case start, end, text, emotion, intensity }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            start = try container.decode(Double.self, forKey: .start)
            end = try container.decode(Double.self, forKey: .end)
            text = try container.decode(String.self, forKey: .text)
            emotion = try container.decode(String.self, forKey: .emotion)
            intensity = try container.decode(Double.self, forKey: .intensity)
            extra = try JSONValue.extraFields(in: decoder, known: CodingKeys.allCases.map(\.rawValue))
        }

        package func encode(to encoder: any Encoder) throws {
            try JSONValue.encode(extra, to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(start, forKey: .start)
            try container.encode(end, forKey: .end)
            try container.encode(text, forKey: .text)
            try container.encode(emotion, forKey: .emotion)
            try container.encode(intensity, forKey: .intensity)
        }
    }

    package struct Emotion: Codable, Sendable, Equatable {
        package var start: Double
        package var end: Double
        package var label: String
        package var score: Double
        package var extra: [String: JSONValue]

        package init(start: Double, end: Double, label: String, score: Double, extra: [String: JSONValue] = [:]) {
            self.start = start
            self.end = end
            self.label = label
            self.score = score
            self.extra = extra
        }

        private enum CodingKeys: String, CodingKey, CaseIterable { case start, end, label, score }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            start = try container.decode(Double.self, forKey: .start)
            end = try container.decode(Double.self, forKey: .end)
            label = try container.decode(String.self, forKey: .label)
            score = try container.decode(Double.self, forKey: .score)
            extra = try JSONValue.extraFields(in: decoder, known: CodingKeys.allCases.map(\.rawValue))
        }

        package func encode(to encoder: any Encoder) throws {
            try JSONValue.encode(extra, to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(start, forKey: .start)
            try container.encode(end, forKey: .end)
            try container.encode(label, forKey: .label)
            try container.encode(score, forKey: .score)
        }
    }

    package var captions: [Caption]
    package var emotions: [Emotion]
    /// When the analysis finished: an ISO-8601 UTC timestamp in the seed (`"2025-09-09T12:30:00Z"`).
    /// Kept as the worker sent it (workers before this contract sent seconds as a number).
    package var analysisTime: JSONValue
    /// Fields beyond the seed's: `method`, `processing_seconds`, …
    package var extra: [String: JSONValue]

    package init(captions: [Caption], emotions: [Emotion], analysisTime: JSONValue, extra: [String: JSONValue] = [:]) {
        self.captions = captions
        self.emotions = emotions
        self.analysisTime = analysisTime
        self.extra = extra
    }

    /// How the result was derived, when the worker said.
    package var method: String? {
        if case .string(let method) = extra["method"] { return method }
        return nil
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case captions, emotions
        case analysisTime = "analysis_time"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        captions = try container.decode([Caption].self, forKey: .captions)
        emotions = try container.decode([Emotion].self, forKey: .emotions)
        analysisTime = try container.decode(JSONValue.self, forKey: .analysisTime)
        switch analysisTime {
        case .string, .number: break
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .analysisTime,
                in: container,
                debugDescription: "analysis_time must be an ISO-8601 timestamp (or, from older workers, seconds)"
            )
        }
        extra = try JSONValue.extraFields(in: decoder, known: CodingKeys.allCases.map(\.rawValue))
    }

    package func encode(to encoder: any Encoder) throws {
        try JSONValue.encode(extra, to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(captions, forKey: .captions)
        try container.encode(emotions, forKey: .emotions)
        try container.encode(analysisTime, forKey: .analysisTime)
    }
}
