import NIOCore

/// One Redis reply (RESP2 and RESP3). Bulk payloads stay `ByteBuffer` slices of the read
/// buffer: a cached response body read back from Redis is not copied into a `String`.
public enum RESPValue: Sendable, Equatable {
    case simpleString(String)
    /// An error reply (`-ERR …`, `-NOSCRIPT …`): the command failed, the connection is fine.
    case error(String)
    case integer(Int64)
    case bulkString(ByteBuffer)
    /// RESP2's null bulk string and null array, and RESP3's `_`.
    case null
    case array([RESPValue])
    // RESP3 only.
    case double(Double)
    case boolean(Bool)
    case bigNumber(String)
    case verbatimString(format: String, text: ByteBuffer)
    /// Keys and values alternate: `[k1, v1, k2, v2, …]`.
    case map([RESPValue])
    case set([RESPValue])
    /// Out-of-band data (pub/sub messages under RESP3); never the answer to a command.
    case push([RESPValue])

    /// The value as text, for simple and bulk strings.
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes): String(buffer: bytes)
        case .verbatimString(_, let text): String(buffer: text)
        default: nil
        }
    }

    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    public var array: [RESPValue]? {
        switch self {
        case .array(let values), .set(let values), .push(let values): values
        default: nil
        }
    }

    /// An error reply's first word (`NOSCRIPT`, `WRONGTYPE`, `NOAUTH`…).
    public var errorCode: Substring? {
        guard case .error(let text) = self else { return nil }
        return text.split(separator: " ", maxSplits: 1).first
    }
}
