import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way ECG makes the random UUIDs it stores and sends (file keys, job ids, event ids, token
/// ids, refresh families) and writes them as text.
///
/// Foundation's `UUID()` on Linux opens, reads and closes `/dev/urandom` for every UUID: three system
/// calls, the open walking the path and the device cgroup check. Measured here: 3.9 µs a UUID against
/// 0.4 µs for one `arc4random_buf` (glibc ≥ 2.36 fills it with one `getrandom(2)`), and
/// `uuidString.lowercased()` 1.2 µs against 0.1 µs written directly. generate-url makes one per
/// request: together 2% of media-service's CPU (perf, issue 13).
extension UUID {
    /// A random (version 4, RFC 9562) UUID from the system's cryptographic random source.
    package static func random() -> UUID {
        var bits: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &bits) { arc4random_buf($0.baseAddress!, $0.count) }
        return UUID(version4Bits: bits.0, bits.1)
    }

    /// A version 4 UUID from 128 bits, of which 6 become the version (`4`) and the variant (`10`):
    /// `high` is bytes 0–7 and `low` bytes 8–15, most significant first.
    package init(version4Bits high: UInt64, _ low: UInt64) {
        let high = (high & ~0xF000) | 0x4000  // version 4 in bits 48–51
        let low = (low & ~(0xC000 << 48)) | (0x8000 << 48)  // variant 10
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { raw in
            raw.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        self.init(uuid: bytes)
    }

    /// The lowercase text form every wire format here uses (`uuidString.lowercased()`, without its
    /// two intermediate strings).
    package var lowercasedString: String {
        withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { text in
                let digits: StaticString = "0123456789abcdef"
                var index = 0
                for (offset, byte) in bytes.enumerated() {
                    if offset == 4 || offset == 6 || offset == 8 || offset == 10 {
                        text[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    text[index] = digits.utf8Start[Int(byte >> 4)]
                    text[index + 1] = digits.utf8Start[Int(byte & 0xF)]
                    index += 2
                }
                return index
            }
        }
    }
}
