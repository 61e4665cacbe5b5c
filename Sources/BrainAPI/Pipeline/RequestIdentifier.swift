import BrainInfrastructure
import BrainDomain
import NIOHTTP1

/// First stage: every request gets an id, echoed to the client and sent upstream as
/// `X-Request-ID`, and present in the access log and every error body.
///
/// A client's own `X-Request-ID` is kept when it is a plain token (letters, digits, `-_.:`,
/// at most 128), so ids can follow a request across systems; anything else is replaced, so a
/// client cannot smuggle text into logs or upstream headers.
public struct RequestIdentifier: Sendable {
    /// Seeded once from the system's generator; afterwards ids cost no system call.
    private var generator: SplitMix64 = {
        var system = SystemRandomNumberGenerator()
        return SplitMix64(seed: system.next())
    }()

    public init() {}

    public mutating func identify(_ headers: some HeaderFieldReading) -> String {
        if let supplied = headers.first(name: "x-request-id"), Self.isAcceptable(supplied) {
            return supplied
        }
        return generate()
    }

    static func isAcceptable(_ id: String) -> Bool {
        let bytes = id.utf8
        guard !bytes.isEmpty, bytes.count <= 128 else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: ":")
        }
    }

    /// 128 pseudo-random bits as 32 lowercase hex digits.
    public mutating func generate() -> String {
        Self.hex(high: generator.next(), low: generator.next())
    }

    /// An id straight from the system's generator, for one-off use off the hot path.
    static func generate() -> String {
        var system = SystemRandomNumberGenerator()
        return hex(high: system.next(), low: system.next())
    }

    private static func hex(high: UInt64, low: UInt64) -> String {
        String(unsafeUninitializedCapacity: 32) { buffer in
            let digits: StaticString = "0123456789abcdef"
            digits.withUTF8Buffer { hex in
                for i in 0..<16 {
                    buffer[i] = hex[Int((high >> (60 - UInt64(i) * 4)) & 0xF)]
                    buffer[16 + i] = hex[Int((low >> (60 - UInt64(i) * 4)) & 0xF)]
                }
            }
            return 32
        }
    }
}
