import BrainInfrastructure
import BrainDomain
import NIOHTTP1

/// W3C Trace Context stage: the request's place in a distributed trace. An incoming valid
/// `traceparent` is continued (same trace id and flags, the client's span becomes the parent);
/// otherwise a new trace starts. The gateway's own hop gets a fresh span id, and the upstream
/// receives `traceparent` naming it — never the client's header as sent. `tracestate` passes
/// through unchanged.
public struct TraceContext: Sendable, Equatable {
    /// The header sent upstream: `00-<trace id>-<the gateway's span id>-<flags>`, built in one
    /// string (this runs for every proxied request).
    public let traceparent: String

    public var traceID: Substring { traceparent.dropFirst(3).prefix(32) }
    public var spanID: Substring { traceparent.dropFirst(36).prefix(16) }
    public var flags: Substring { traceparent.suffix(2) }

    public static func start<R: RandomNumberGenerator>(from headers: some HeaderFieldReading, using random: inout R) -> TraceContext {
        let span = random.next()
        if let incoming = headers.first(name: "traceparent"), let parsed = parse(incoming) {
            return TraceContext(traceparent: "00-" + parsed.traceID + "-" + hex(span, digits: 16) + "-" + parsed.flags)
        }
        let high = random.next(), low = random.next()
        let text = String(unsafeUninitializedCapacity: 55) { out in
            let alphabet: StaticString = "0123456789abcdef"
            alphabet.withUTF8Buffer { hex in
                var i = 0
                func put(_ byte: UInt8) { out[i] = byte; i += 1 }
                func put(_ value: UInt64) {
                    for shift in stride(from: 60, through: 0, by: -4) { put(hex[Int((value >> UInt64(shift)) & 0xF)]) }
                }
                put(UInt8(ascii: "0")); put(UInt8(ascii: "0")); put(UInt8(ascii: "-"))
                put(high); put(low); put(UInt8(ascii: "-"))
                put(span); put(UInt8(ascii: "-"))
                put(UInt8(ascii: "0")); put(UInt8(ascii: "0"))
            }
            return 55
        }
        return TraceContext(traceparent: text)
    }

    /// `version-traceid-parentid-flags`: version two hex digits but not `ff` (a later version
    /// may append fields after a dash), ids lowercase hex and not all zeros.
    static func parse(_ header: String) -> (traceID: String, parentID: String, flags: String)? {
        let fields = header.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count >= 4, fields[0].count == 2, fields[0] != "ff", isHex(fields[0]) else { return nil }
        if fields[0] == "00" && fields.count != 4 { return nil }
        let trace = fields[1], parent = fields[2], flags = fields[3]
        guard trace.count == 32, parent.count == 16, flags.count == 2, isHex(trace), isHex(parent), isHex(flags) else { return nil }
        guard trace.contains(where: { $0 != "0" }), parent.contains(where: { $0 != "0" }) else { return nil }
        return (String(trace), String(parent), String(flags))
    }

    private static func isHex(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    static func hex(_ value: UInt64, digits: Int) -> String {
        String(unsafeUninitializedCapacity: digits) { buffer in
            let alphabet: StaticString = "0123456789abcdef"
            alphabet.withUTF8Buffer { hex in
                for i in 0..<digits { buffer[i] = hex[Int((value >> UInt64((digits - 1 - i) * 4)) & 0xF)] }
            }
            return digits
        }
    }
}
