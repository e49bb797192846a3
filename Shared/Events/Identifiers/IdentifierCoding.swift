/// The one way an id is written to and read from JSON: as a string, refused with a message naming
/// what was expected when it does not parse.
enum IdentifierCoding {
    static func decode<ID>(from decoder: any Decoder, named what: String, _ parse: (String) -> ID?) throws -> ID {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(text) is not a \(what)"))
        }
        return id
    }

    static func encode(_ text: String, to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
