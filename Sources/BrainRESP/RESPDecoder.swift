import NIOCore

/// Turns the bytes a Redis connection reads into replies, RESP2 and RESP3: a value given each
/// read and asked for the next complete reply. Pure, so it is tested and fuzzed without a
/// socket.
///
/// Strict where a lenient reader would mis-frame the stream: every line ends in CRLF, lengths
/// and integers are plain decimals without overflow, a bulk payload is followed by CRLF, and
/// sizes are bounded (`Limits`), so a hostile or broken peer costs an error, not memory. After
/// an error the stream cannot be re-synchronised: the connection must be closed.
public struct RESPDecoder: Sendable {
    public struct Limits: Sendable {
        public var maxBulkBytes: Int
        public var maxElements: Int
        public var maxDepth: Int
        public var maxLineBytes: Int

        public init(maxBulkBytes: Int = 1 << 30 + 1 << 20, maxElements: Int = 1 << 20, maxDepth: Int = 32, maxLineBytes: Int = 64 * 1024) {
            self.maxBulkBytes = maxBulkBytes
            self.maxElements = maxElements
            self.maxDepth = maxDepth
            self.maxLineBytes = maxLineBytes
        }
    }

    public enum Failure: Error, Sendable, Equatable {
        case unknownType(UInt8)
        case malformedLine
        case malformedNumber
        case tooLarge
        case tooDeep
    }

    private let limits: Limits
    private var buffer: ByteBuffer?
    /// How many readable bytes a parse needs before it is worth trying again (a bulk payload
    /// arriving in many reads is not re-parsed on each).
    private var needed = 1

    public init(limits: Limits = .init()) {
        self.limits = limits
    }

    public mutating func read(_ bytes: ByteBuffer) {
        if buffer == nil || buffer?.readableBytes == 0 {
            buffer = bytes
        } else {
            var bytes = bytes
            buffer?.writeBuffer(&bytes)
        }
    }

    /// Bytes read and not yet part of a returned reply.
    public var bufferedBytes: Int { buffer?.readableBytes ?? 0 }

    /// The next complete reply, or nil until more bytes arrive.
    public mutating func next() throws(Failure) -> RESPValue? {
        guard var bytes = buffer, bytes.readableBytes >= needed else { return nil }
        var cursor = Cursor(bytes: bytes, limits: limits)
        switch try cursor.value(depth: 0) {
        case .complete(let value):
            bytes.moveReaderIndex(forwardBy: cursor.offset)
            buffer = bytes.readableBytes == 0 ? nil : bytes
            needed = 1
            if buffer != nil { buffer?.discardReadBytesIfLarge() }
            return value
        case .incomplete(let atLeast):
            needed = max(atLeast, bytes.readableBytes + 1)
            return nil
        }
    }

    enum Step {
        case complete(RESPValue)
        /// Needs at least this many readable bytes in total.
        case incomplete(Int)
    }

    /// A parse of the buffered bytes from their start; `offset` is how far it got.
    private struct Cursor {
        let bytes: ByteBuffer
        let limits: Limits
        var offset = 0

        var available: Int { bytes.readableBytes }

        mutating func value(depth: Int) throws(Failure) -> Step {
            guard depth <= limits.maxDepth else { throw .tooDeep }
            guard offset < available else { return .incomplete(offset + 1) }
            let type = byte(at: offset)
            offset += 1
            switch type {
            case UInt8(ascii: "+"):
                return try line().map { .simpleString(String(buffer: $0)) }
            case UInt8(ascii: "-"):
                return try line().map { .error(String(buffer: $0)) }
            case UInt8(ascii: ":"):
                return try line().map { content throws(Failure) in .integer(try Self.integer(content)) }
            case UInt8(ascii: "$"):
                return try bulk().map { $0.map(RESPValue.bulkString) ?? .null }
            case UInt8(ascii: "!"):
                return try bulk().map { .error($0.map { String(buffer: $0) } ?? "") }
            case UInt8(ascii: "="):
                return try bulk().map { payload throws(Failure) in
                    guard var payload, payload.readableBytes >= 4, payload.getInteger(at: payload.readerIndex + 3, as: UInt8.self) == UInt8(ascii: ":") else {
                        throw .malformedLine
                    }
                    let format = payload.readString(length: 3) ?? ""
                    payload.moveReaderIndex(forwardBy: 1)
                    return .verbatimString(format: format, text: payload)
                }
            case UInt8(ascii: "_"):
                return try line().map { content throws(Failure) in
                    guard content.readableBytes == 0 else { throw .malformedLine }
                    return .null
                }
            case UInt8(ascii: "#"):
                return try line().map { content throws(Failure) in
                    switch String(buffer: content) {
                    case "t": return .boolean(true)
                    case "f": return .boolean(false)
                    default: throw .malformedLine
                    }
                }
            case UInt8(ascii: ","):
                return try line().map { content throws(Failure) in
                    let text = String(buffer: content)
                    switch text {
                    case "inf": return .double(.infinity)
                    case "-inf": return .double(-.infinity)
                    case "nan", "-nan": return .double(.nan)
                    default:
                        guard !text.isEmpty, text.utf8.allSatisfy({ Self.isDoubleByte($0) }), let value = Double(text) else { throw .malformedNumber }
                        return .double(value)
                    }
                }
            case UInt8(ascii: "("):
                return try line().map { content throws(Failure) in
                    var digits = content
                    if digits.getInteger(at: digits.readerIndex, as: UInt8.self) == UInt8(ascii: "-") { digits.moveReaderIndex(forwardBy: 1) }
                    guard digits.readableBytes > 0, digits.readableBytesView.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { throw .malformedNumber }
                    return .bigNumber(String(buffer: content))
                }
            case UInt8(ascii: "*"):
                return try aggregate(depth: depth, pairs: false, allowsNull: true, RESPValue.array)
            case UInt8(ascii: "~"):
                return try aggregate(depth: depth, pairs: false, allowsNull: false, RESPValue.set)
            case UInt8(ascii: ">"):
                return try aggregate(depth: depth, pairs: false, allowsNull: false, RESPValue.push)
            case UInt8(ascii: "%"):
                return try aggregate(depth: depth, pairs: true, allowsNull: false, RESPValue.map)
            case UInt8(ascii: "|"):
                // Attributes describe the reply that follows; the gateway has no use for them.
                guard case .complete = try aggregate(depth: depth, pairs: true, allowsNull: false, RESPValue.map) else {
                    return .incomplete(offset + 1)
                }
                return try value(depth: depth + 1)
            default:
                throw .unknownType(type)
            }
        }

        private func byte(at index: Int) -> UInt8 {
            bytes.getInteger(at: bytes.readerIndex + index, as: UInt8.self) ?? 0
        }

        /// A line's content up to CRLF; the cursor moves past the CRLF.
        private mutating func line() throws(Failure) -> LineStep {
            let start = offset
            let found: Int? = bytes.withUnsafeReadableBytes { raw in
                var index = start
                while index < raw.count {
                    if raw[index] == UInt8(ascii: "\r") || raw[index] == UInt8(ascii: "\n") { return index }
                    index += 1
                }
                return nil
            }
            guard let end = found else {
                guard available - start <= limits.maxLineBytes else { throw .tooLarge }
                return .incomplete(available + 1)
            }
            // A long line is refused whether it came in one read or many.
            guard end - start <= limits.maxLineBytes else { throw .tooLarge }
            guard byte(at: end) == UInt8(ascii: "\r") else { throw .malformedLine }
            guard end + 1 < available else { return .incomplete(end + 2) }
            guard byte(at: end + 1) == UInt8(ascii: "\n") else { throw .malformedLine }
            offset = end + 2
            return .line(bytes.getSlice(at: bytes.readerIndex + start, length: end - start) ?? ByteBuffer())
        }

        /// A length-prefixed payload (`$`, `!`, `=`); nil for RESP2's `-1`.
        private mutating func bulk() throws(Failure) -> BulkStep {
            let length: Int
            switch try line() {
            case .incomplete(let atLeast): return .incomplete(atLeast)
            case .line(let content): length = try Self.length(content, allowsNull: true, limit: limits.maxBulkBytes)
            }
            guard length >= 0 else { return .payload(nil) }
            let end = offset + length
            guard end + 2 <= available else { return .incomplete(end + 2) }
            guard byte(at: end) == UInt8(ascii: "\r"), byte(at: end + 1) == UInt8(ascii: "\n") else { throw .malformedLine }
            let payload = bytes.getSlice(at: bytes.readerIndex + offset, length: length) ?? ByteBuffer()
            offset = end + 2
            return .payload(payload)
        }

        private mutating func aggregate(depth: Int, pairs: Bool, allowsNull: Bool, _ make: ([RESPValue]) -> RESPValue) throws(Failure) -> Step {
            let count: Int
            switch try line() {
            case .incomplete(let atLeast): return .incomplete(atLeast)
            case .line(let content): count = try Self.length(content, allowsNull: allowsNull, limit: pairs ? limits.maxElements / 2 : limits.maxElements)
            }
            guard count >= 0 else { return .complete(.null) }
            let elements = pairs ? count * 2 : count
            var values: [RESPValue] = []
            values.reserveCapacity(min(elements, 1024))
            for _ in 0..<elements {
                switch try value(depth: depth + 1) {
                case .complete(let element): values.append(element)
                case .incomplete(let atLeast): return .incomplete(atLeast)
                }
            }
            return .complete(make(values))
        }

        private static func isDoubleByte(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
                || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
        }

        /// A length or count: digits, or `-1` for null where the type has one.
        private static func length(_ content: ByteBuffer, allowsNull: Bool, limit: Int) throws(Failure) -> Int {
            if allowsNull, content.readableBytes == 2, content.getString(at: content.readerIndex, length: 2) == "-1" { return -1 }
            let value = try integer(content)
            guard value >= 0 else { throw .malformedNumber }
            guard value <= limit else { throw .tooLarge }
            return Int(value)
        }

        static func integer(_ content: ByteBuffer) throws(Failure) -> Int64 {
            var negative = false
            var value: Int64 = 0
            var digits = 0
            for (index, byte) in content.readableBytesView.enumerated() {
                if index == 0, byte == UInt8(ascii: "-") {
                    negative = true
                    continue
                }
                guard byte >= 0x30, byte <= 0x39 else { throw .malformedNumber }
                let digit = Int64(byte - 0x30)
                let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (next, overflow2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { throw .malformedNumber }
                value = next
                digits += 1
            }
            guard digits > 0 else { throw .malformedNumber }
            return value
        }
    }

    private enum LineStep {
        case line(ByteBuffer)
        case incomplete(Int)

        func map(_ transform: (ByteBuffer) throws(Failure) -> RESPValue) throws(Failure) -> Step {
            switch self {
            case .line(let content): .complete(try transform(content))
            case .incomplete(let atLeast): .incomplete(atLeast)
            }
        }
    }

    private enum BulkStep {
        case payload(ByteBuffer?)
        case incomplete(Int)

        func map(_ transform: (ByteBuffer?) throws(Failure) -> RESPValue) throws(Failure) -> Step {
            switch self {
            case .payload(let payload): .complete(try transform(payload))
            case .incomplete(let atLeast): .incomplete(atLeast)
            }
        }
    }
}

extension ByteBuffer {
    /// Keeps a long-lived read buffer from growing with every reply read out of it.
    fileprivate mutating func discardReadBytesIfLarge() {
        if readerIndex > 64 * 1024 { discardReadBytes() }
    }
}
