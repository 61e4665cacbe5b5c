/// Reads a chunked body (RFC 9112 §7.1) as it arrives: a pure state machine over the bytes of
/// each read, returning spans of body data in that read, so a relay forwards them without
/// copying. Strict like the head parser: CRLF only, hexadecimal sizes without sign or spaces
/// and below the limit (no overflow), extensions as `;name[=token|"quoted"]` without
/// whitespace, trailers as field lines.
public struct ChunkedBodyDecoder: Sendable, Equatable {
    public enum Step: Sendable, Equatable {
        /// These bytes of the read are body data; call again from `index`.
        case data(HeadSpan)
        /// Everything in the read is used; give the next one (index 0).
        case needMore
        /// The last chunk and the trailers ended: the body is complete. Bytes after `index`
        /// belong to the next message.
        case end
        case refused(String)
    }

    private enum State: Sendable, Equatable {
        case size(value: UInt64, digits: Int)
        /// After `;`: an extension name (token), `nameStarted` once it has a byte.
        case extensionName(size: UInt64, nameStarted: Bool)
        /// After `=`: a token or a quoted string.
        case extensionValueStart(size: UInt64)
        case extensionToken(size: UInt64)
        case extensionQuoted(size: UInt64, escaped: Bool)
        /// After a quoted string's closing quote.
        case extensionAfterQuote(size: UInt64)
        case sizeLF(size: UInt64)
        case data(remaining: UInt64)
        case dataCR
        case dataLF
        /// At the start of a trailer line (or the final blank line).
        case trailerStart
        /// Within a trailer line: still in its name (before the colon), or in its value.
        case trailerLine(inName: Bool)
        case trailerLF(blank: Bool)
        case done
    }

    private var state: State = .size(value: 0, digits: 0)
    private var trailerBytes = 0
    /// Largest chunk accepted, and bytes of trailers in all.
    public let maxChunkSize: UInt64
    public let maxTrailerBytes: Int

    public init(maxChunkSize: UInt64 = 1 << 40, maxTrailerBytes: Int = 16 * 1024) {
        self.maxChunkSize = maxChunkSize
        self.maxTrailerBytes = maxTrailerBytes
    }

    public var isComplete: Bool { state == .done }

    /// Advances through `bytes` from `index` to the next piece of data, the end, or the end of
    /// the read.
    public mutating func next(_ bytes: UnsafeRawBufferPointer, index: inout Int) -> Step {
        while index < bytes.count {
            let byte = bytes[index]
            switch state {
            case .size(let value, let digits):
                if let digit = Self.hex(byte) {
                    guard digits < 16 else { return .refused("a chunk size with more than 16 hexadecimal digits") }
                    let next = value << 4 | UInt64(digit)
                    guard next <= maxChunkSize else { return .refused("a chunk larger than \(maxChunkSize) bytes") }
                    state = .size(value: next, digits: digits + 1)
                    index += 1
                    continue
                }
                guard digits > 0 else { return .refused("a chunk size that is not hexadecimal") }
                switch byte {
                case 0x0D: state = .sizeLF(size: value)
                case 0x3B: state = .extensionName(size: value, nameStarted: false)
                default: return .refused("a chunk size followed by something other than ';' or CRLF")
                }
                index += 1
            // chunk-ext = *( ";" token [ "=" ( token / quoted-string ) ] ), without the
            // optional whitespace RFC 9112 tolerates: llhttp refuses it, and one reading it is.
            case .extensionName(let size, let started):
                if Self.isToken(byte) {
                    state = .extensionName(size: size, nameStarted: true)
                } else {
                    guard started else { return .refused("a chunk extension without a name") }
                    switch byte {
                    case 0x3B: state = .extensionName(size: size, nameStarted: false)
                    case 0x3D: state = .extensionValueStart(size: size)
                    case 0x0D: state = .sizeLF(size: size)
                    default: return .refused("a byte that is not allowed in a chunk extension")
                    }
                }
                index += 1
            case .extensionValueStart(let size):
                if byte == 0x22 {
                    state = .extensionQuoted(size: size, escaped: false)
                } else {
                    guard Self.isToken(byte) else { return .refused("a chunk extension value that is neither a token nor a quoted string") }
                    state = .extensionToken(size: size)
                }
                index += 1
            case .extensionToken(let size):
                if !Self.isToken(byte) {
                    switch byte {
                    case 0x3B: state = .extensionName(size: size, nameStarted: false)
                    case 0x0D: state = .sizeLF(size: size)
                    default: return .refused("a byte that is not allowed in a chunk extension value")
                    }
                }
                index += 1
            case .extensionQuoted(let size, let escaped):
                guard byte == 0x09 || (byte >= 0x20 && byte != 0x7F) else { return .refused("a control byte in a chunk extension") }
                if escaped {
                    state = .extensionQuoted(size: size, escaped: false)
                } else if byte == 0x5C {
                    state = .extensionQuoted(size: size, escaped: true)
                } else if byte == 0x22 {
                    state = .extensionAfterQuote(size: size)
                }
                index += 1
            case .extensionAfterQuote(let size):
                switch byte {
                case 0x3B: state = .extensionName(size: size, nameStarted: false)
                case 0x0D: state = .sizeLF(size: size)
                default: return .refused("a byte after a quoted chunk extension value")
                }
                index += 1
            case .sizeLF(let size):
                guard byte == 0x0A else { return .refused("a bare CR after a chunk size") }
                index += 1
                state = size == 0 ? .trailerStart : .data(remaining: size)
            case .data(let remaining):
                let available = UInt64(bytes.count - index)
                let take = Int(min(remaining, available))
                let span = HeadSpan(start: index, count: take)
                index += take
                state = remaining == UInt64(take) ? .dataCR : .data(remaining: remaining - UInt64(take))
                return .data(span)
            case .dataCR:
                guard byte == 0x0D else { return .refused("chunk data longer than its size (no CRLF after it)") }
                state = .dataLF
                index += 1
            case .dataLF:
                guard byte == 0x0A else { return .refused("a bare CR after chunk data") }
                state = .size(value: 0, digits: 0)
                index += 1
            case .trailerStart:
                if byte == 0x0D {
                    state = .trailerLF(blank: true)
                } else {
                    guard Self.isToken(byte) else { return .refused("a trailer line that does not start with a field name") }
                    state = .trailerLine(inName: true)
                }
                trailerBytes += 1
                index += 1
            case .trailerLine(let inName):
                if inName {
                    if byte == 0x3A {
                        state = .trailerLine(inName: false)
                    } else {
                        guard Self.isToken(byte) else { return .refused("a trailer field name that is not a token, or no colon") }
                    }
                } else if byte == 0x0D {
                    state = .trailerLF(blank: false)
                } else {
                    guard byte == 0x09 || (byte >= 0x20 && byte != 0x7F) else { return .refused("a control byte in a trailer") }
                }
                trailerBytes += 1
                guard trailerBytes <= maxTrailerBytes else { return .refused("trailers longer than \(maxTrailerBytes) bytes") }
                index += 1
            case .trailerLF(let blank):
                guard byte == 0x0A else { return .refused("a bare CR in the trailers") }
                index += 1
                if blank {
                    state = .done
                    return .end
                }
                state = .trailerStart
            case .done:
                return .end
            }
        }
        return state == .done ? .end : .needMore
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    private static func isToken(_ byte: UInt8) -> Bool { HTTPHeadParser.isTokenByte(byte) }
}
