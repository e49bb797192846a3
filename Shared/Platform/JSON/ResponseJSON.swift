import Foundation
import NIOCore

/// The JSON of every response body: written straight into bytes, fields in the order the type
/// encodes them (declaration order for synthesized `Codable`), so the same value is always the same bytes.
///
/// Foundation's `JSONEncoder` first builds a tree of boxed values with a dictionary per object, then
/// serializes it (and its key order changes from one process to the next): 5% of media-service's CPU
/// under generate-url went there for a five-field body (perf, issue 13). Output is what `JSONEncoder`
/// with `.withoutEscapingSlashes` writes, up to key order: `nil` optionals left out, whole doubles
/// without `.0`, non-finite numbers refused, `URL` as its string, `Data` in Base64, `Date` as
/// `JSONEncoder`'s default (seconds since 2001; our bodies carry dates as formatted strings).
package enum ResponseJSON {
    package static func encode(_ value: some Encodable) throws -> ByteBuffer {
        let writer = JSONStreamWriter()
        try writer.encodeValue(value, slotDepth: 0)
        writer.closeContainers(above: 0)
        return ByteBuffer(bytes: writer.bytes)
    }
}

/// The bytes written so far and the containers still open. Containers are closed lazily: writing
/// into a container first closes those opened after it, and `ResponseJSON.encode` closes the rest.
/// That matches how `Encodable` types use an encoder (a nested value is encoded completely before
/// its container's next field).
final class JSONStreamWriter {
    var bytes: [UInt8] = []
    /// Open containers, outermost first: `true` for an object, and whether it has an element yet.
    private var open: [(isObject: Bool, hasElements: Bool)] = []

    init() {
        bytes.reserveCapacity(512)
    }

    var depth: Int { open.count }

    func closeContainers(above depth: Int) {
        while open.count > depth {
            bytes.append(open.removeLast().isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        }
    }

    /// Opens an object or array at `depth + 1`; returns its depth.
    func openContainer(isObject: Bool) -> Int {
        bytes.append(isObject ? UInt8(ascii: "{") : UInt8(ascii: "["))
        open.append((isObject, false))
        return open.count
    }

    /// Before an element of the container at `depth`: closes deeper containers, writes the comma.
    func beginElement(inContainerAt depth: Int) {
        closeContainers(above: depth)
        if open[depth - 1].hasElements {
            bytes.append(UInt8(ascii: ","))
        } else {
            open[depth - 1].hasElements = true
        }
    }

    func beginField(_ key: some CodingKey, inContainerAt depth: Int) {
        beginElement(inContainerAt: depth)
        writeString(key.stringValue)
        bytes.append(UInt8(ascii: ":"))
    }

    // MARK: - Values

    /// Any value in a slot (the top level, a field, an element) whose container is at `slotDepth`.
    /// Types are compared, not cast: a failed dynamic cast per value is dearer than the encoding.
    func encodeValue<T: Encodable>(_ value: T, slotDepth: Int) throws {
        if T.self == String.self {
            writeString(unsafeBitCast(value, to: String.self))
        } else if T.self == URL.self {
            writeString((value as! URL).absoluteString)
        } else if T.self == Data.self {
            writeString((value as! Data).base64EncodedString())
        } else if T.self == Decimal.self {
            bytes.append(contentsOf: (value as! Decimal).description.utf8)
        } else {
            let start = bytes.count
            try value.encode(to: JSONStreamEncoder(writer: self, slotDepth: slotDepth))
            // A value that encoded nothing is an empty object, as with JSONEncoder.
            if bytes.count == start { bytes.append(contentsOf: "{}".utf8) }
        }
    }

    func writeString(_ string: String) {
        JSONText.append(string, to: &bytes)
    }

    func writeInteger(_ value: some FixedWidthInteger) {
        // Digits from the least significant, on the magnitude (which also covers `Int.min`).
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: a sign and 20 digits fit
        withUnsafeMutableBytes(of: &digits) { buffer in
            var magnitude = value.magnitude
            var index = buffer.count
            repeat {
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                index -= 1
                buffer[index] = UInt8(ascii: "-")
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[index...]))
        }
    }

    func writeFloatingPoint(_ value: some BinaryFloatingPoint & LosslessStringConvertible, codingPath: [any CodingKey]) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "JSON has no \(value); send a finite number."))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    func writeNull() {
        bytes.append(contentsOf: "null".utf8)
    }

    func writeBool(_ value: Bool) {
        bytes.append(contentsOf: value ? "true".utf8 : "false".utf8)
    }
}

/// The `Encoder` handed to a value's `encode(to:)`: the slot it fills is in the container at `slotDepth`.
/// It keeps no coding path (no body type reads it; keeping one cost an array per field), so
/// `codingPath` is empty here and in the containers, and `userInfo` is empty.
struct JSONStreamEncoder: Encoder {
    let writer: JSONStreamWriter
    let slotDepth: Int
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(JSONStreamKeyedContainer<Key>(writer: writer, depth: openOrReuse(isObject: true)))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        JSONStreamUnkeyedContainer(writer: writer, depth: openOrReuse(isObject: false))
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        JSONStreamSingleValueContainer(writer: writer, slotDepth: slotDepth)
    }

    /// A type may ask its encoder for the same container twice (a subclass and its superclass):
    /// the second time the one already open is used.
    private func openOrReuse(isObject: Bool) -> Int {
        // When a value's encoding begins, its slot's container is the innermost open one.
        if writer.depth > slotDepth {
            writer.closeContainers(above: slotDepth + 1)
            return slotDepth + 1
        }
        return writer.openContainer(isObject: isObject)
    }
}

struct JSONStreamKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONStreamWriter
    let depth: Int
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws {
        writer.beginField(key, inContainerAt: depth)
        writer.writeNull()
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        writer.beginField(key, inContainerAt: depth)
        writer.writeBool(value)
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        writer.beginField(key, inContainerAt: depth)
        writer.writeString(value)
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        writer.beginField(key, inContainerAt: depth)
        try writer.writeFloatingPoint(value, codingPath: [key])
    }

    mutating func encode(_ value: Float, forKey key: Key) throws {
        writer.beginField(key, inContainerAt: depth)
        try writer.writeFloatingPoint(value, codingPath: [key])
    }

    mutating func encode(_ value: Int, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try integer(value, key) }

    private func integer(_ value: some FixedWidthInteger, _ key: Key) throws {
        writer.beginField(key, inContainerAt: depth)
        writer.writeInteger(value)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        writer.beginField(key, inContainerAt: depth)
        try writer.encodeValue(value, slotDepth: depth)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        writer.beginField(key, inContainerAt: depth)
        return KeyedEncodingContainer(JSONStreamKeyedContainer<NestedKey>(writer: writer, depth: writer.openContainer(isObject: true)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        writer.beginField(key, inContainerAt: depth)
        return JSONStreamUnkeyedContainer(writer: writer, depth: writer.openContainer(isObject: false))
    }

    mutating func superEncoder() -> any Encoder {
        writer.beginField(JSONSuperKey.super, inContainerAt: depth)
        return JSONStreamEncoder(writer: writer, slotDepth: depth)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        writer.beginField(key, inContainerAt: depth)
        return JSONStreamEncoder(writer: writer, slotDepth: depth)
    }
}

private enum JSONSuperKey: String, CodingKey {
    case `super`
}

struct JSONStreamUnkeyedContainer: UnkeyedEncodingContainer {
    let writer: JSONStreamWriter
    let depth: Int
    private(set) var count = 0
    var codingPath: [any CodingKey] { [] }

    init(writer: JSONStreamWriter, depth: Int) {
        self.writer = writer
        self.depth = depth
    }

    private mutating func beginElement() {
        writer.beginElement(inContainerAt: depth)
        count += 1
    }

    mutating func encodeNil() throws {
        beginElement()
        writer.writeNull()
    }

    mutating func encode(_ value: Bool) throws {
        beginElement()
        writer.writeBool(value)
    }

    mutating func encode(_ value: String) throws {
        beginElement()
        writer.writeString(value)
    }

    mutating func encode(_ value: Double) throws {
        beginElement()
        try writer.writeFloatingPoint(value, codingPath: [])
    }

    mutating func encode(_ value: Float) throws {
        beginElement()
        try writer.writeFloatingPoint(value, codingPath: [])
    }

    mutating func encode(_ value: Int) throws { integer(value) }
    mutating func encode(_ value: Int8) throws { integer(value) }
    mutating func encode(_ value: Int16) throws { integer(value) }
    mutating func encode(_ value: Int32) throws { integer(value) }
    mutating func encode(_ value: Int64) throws { integer(value) }
    mutating func encode(_ value: UInt) throws { integer(value) }
    mutating func encode(_ value: UInt8) throws { integer(value) }
    mutating func encode(_ value: UInt16) throws { integer(value) }
    mutating func encode(_ value: UInt32) throws { integer(value) }
    mutating func encode(_ value: UInt64) throws { integer(value) }

    private mutating func integer(_ value: some FixedWidthInteger) {
        beginElement()
        writer.writeInteger(value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        beginElement()
        try writer.encodeValue(value, slotDepth: depth)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        beginElement()
        return KeyedEncodingContainer(JSONStreamKeyedContainer<NestedKey>(writer: writer, depth: writer.openContainer(isObject: true)))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        beginElement()
        return JSONStreamUnkeyedContainer(writer: writer, depth: writer.openContainer(isObject: false))
    }

    mutating func superEncoder() -> any Encoder {
        beginElement()
        return JSONStreamEncoder(writer: writer, slotDepth: depth)
    }
}

struct JSONStreamSingleValueContainer: SingleValueEncodingContainer {
    let writer: JSONStreamWriter
    let slotDepth: Int
    var codingPath: [any CodingKey] { [] }

    /// A single value fills its slot: anything a previous call left open inside the slot is closed.
    private func begin() {
        writer.closeContainers(above: slotDepth)
    }

    mutating func encodeNil() throws {
        begin()
        writer.writeNull()
    }

    mutating func encode(_ value: Bool) throws {
        begin()
        writer.writeBool(value)
    }

    mutating func encode(_ value: String) throws {
        begin()
        writer.writeString(value)
    }

    mutating func encode(_ value: Double) throws {
        begin()
        try writer.writeFloatingPoint(value, codingPath: [])
    }

    mutating func encode(_ value: Float) throws {
        begin()
        try writer.writeFloatingPoint(value, codingPath: [])
    }

    mutating func encode(_ value: Int) throws { integer(value) }
    mutating func encode(_ value: Int8) throws { integer(value) }
    mutating func encode(_ value: Int16) throws { integer(value) }
    mutating func encode(_ value: Int32) throws { integer(value) }
    mutating func encode(_ value: Int64) throws { integer(value) }
    mutating func encode(_ value: UInt) throws { integer(value) }
    mutating func encode(_ value: UInt8) throws { integer(value) }
    mutating func encode(_ value: UInt16) throws { integer(value) }
    mutating func encode(_ value: UInt32) throws { integer(value) }
    mutating func encode(_ value: UInt64) throws { integer(value) }

    private func integer(_ value: some FixedWidthInteger) {
        begin()
        writer.writeInteger(value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        begin()
        try writer.encodeValue(value, slotDepth: slotDepth)
    }
}
