/// Where a part of a head is in the bytes it was read from: an offset and a length, so a head
/// is parsed without copying or allocating per field, and the stages read the few fields they
/// need straight from the read buffer.
public struct HeadSpan: Sendable, Equatable {
    public var start: Int
    public var count: Int

    public init(start: Int, count: Int) {
        self.start = start
        self.count = count
    }

    public var end: Int { start + count }
}

/// One header field line: its name and its value without the optional whitespace around it.
public struct HeadField: Sendable, Equatable {
    public var name: HeadSpan
    public var value: HeadSpan
}

/// How the message's body is delimited (RFC 9112 §6).
public enum BodyFraming: Sendable, Equatable {
    case none
    case length(Int64)
    case chunked
    /// A response without length or chunking: its body runs until the connection closes.
    case untilClose
}

/// Why a head is refused. Each maps to the status a server answers with.
public enum HeadRefusal: Error, Sendable, Equatable {
    /// 400: not HTTP/1.x syntax, or a framing that could be read two ways (smuggling).
    case malformed(String)
    /// 431: the head is longer than the limit, or has more fields.
    case tooLarge(String)
    /// 505 (requests): a version other than HTTP/1.0 and HTTP/1.1.
    case unsupportedVersion

    public var status: Int {
        switch self {
        case .malformed: 400
        case .tooLarge: 431
        case .unsupportedVersion: 505
        }
    }
}

/// What the head says about the connection and the body, read while parsing.
public struct HeadSemantics: Sendable, Equatable {
    public var framing: BodyFraming = .none
    /// `Connection: close` (or HTTP/1.0 without `keep-alive`).
    public var close = false
    /// `Connection: upgrade` with an `Upgrade` field.
    public var upgrade = false
    public var expectContinue = false
    public var hostCount = 0
}

/// A request head, as spans into its bytes.
public struct ParsedRequestHead: Sendable, Equatable {
    public var method: HeadSpan
    public var target: HeadSpan
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    public var fields: [HeadField]
    public var semantics: HeadSemantics
    /// Bytes up to and including the blank line that ends the head.
    public var length: Int
}

/// A response head, as spans into its bytes.
public struct ParsedResponseHead: Sendable, Equatable {
    public var minorVersion: Int
    public var status: Int
    public var reason: HeadSpan
    public var fields: [HeadField]
    public var semantics: HeadSemantics
    public var length: Int
}

/// The gateway's HTTP/1.1 head parser for both directions (RFC 9110, RFC 9112), strict where
/// leniency lets two parsers read one message differently: CRLF line ends only (no bare CR or
/// LF), no obsolete line folding, no whitespace before a field's colon, no NUL or control bytes
/// in values, one Content-Length of digits only, never with Transfer-Encoding, a request's
/// Transfer-Encoding ending in `chunked`, exactly one Host in an HTTP/1.1 request.
///
/// A pure function over bytes: `incomplete` until the blank line arrives (the caller reads more
/// and calls again from the start; heads are small), then one result.
public enum HTTPHeadParser {
    public struct Limits: Sendable, Equatable {
        public var maxHeadBytes: Int
        public var maxFields: Int

        public init(maxHeadBytes: Int = 32 * 1024, maxFields: Int = 100) {
            self.maxHeadBytes = maxHeadBytes
            self.maxFields = maxFields
        }
    }

    public enum Outcome<Head: Sendable & Equatable>: Sendable, Equatable {
        case incomplete
        case complete(Head)
        case refused(HeadRefusal)
    }

    // MARK: Requests

    public static func parseRequest(_ bytes: UnsafeRawBufferPointer, limits: Limits = .init()) -> Outcome<ParsedRequestHead> {
        var cursor = Cursor(bytes: bytes, limit: limits.maxHeadBytes)
        // RFC 9112 §2.2: empty lines before the request line are ignored.
        while cursor.peek(0) == .cr, cursor.peek(1) == .lf { cursor.index += 2 }
        if cursor.peek(0) == .lf { return .refused(.malformed("a bare LF before the request line")) }
        let method: HeadSpan
        switch cursor.token(endingWith: .space) {
        case .found(let span): method = span
        case .incomplete: return cursor.incomplete()
        case .invalid: return .refused(.malformed("the method is not a token"))
        }
        let targetStart = cursor.index
        while let byte = cursor.peek(0), byte != .space {
            guard byte > 0x20, byte < 0x7F else { return .refused(.malformed("the request target has a byte that is not visible ASCII")) }
            cursor.index += 1
        }
        guard cursor.peek(0) != nil else { return cursor.incomplete() }
        let target = HeadSpan(start: targetStart, count: cursor.index - targetStart)
        guard target.count > 0 else { return .refused(.malformed("the request target is empty")) }
        guard isRequestTarget(bytes, target, method: method) else {
            return .refused(.malformed("the request target is not origin-form (/path), absolute-form, authority-form (CONNECT) or * (OPTIONS)"))
        }
        cursor.index += 1
        let minor: Int
        switch cursor.version() {
        case .found(let major, let m):
            guard major == 1, m <= 1 else { return .refused(.unsupportedVersion) }
            minor = m
        case .incomplete: return cursor.incomplete()
        case .invalid: return .refused(.malformed("the request line does not end with HTTP/<digit>.<digit> and CRLF"))
        }
        switch cursor.endOfLine() {
        case .found: break
        case .incomplete: return cursor.incomplete()
        case .invalid: return .refused(.malformed("the request line does not end with CRLF"))
        }
        var fields: [HeadField] = []
        fields.reserveCapacity(16)
        var semantics = HeadSemantics()
        switch fieldLines(&cursor, limits: limits, into: &fields, semantics: &semantics, isRequest: true) {
        case .some(.refused(let refusal)): return .refused(refusal)
        case .some(.incomplete): return cursor.incomplete()
        case .none: break
        }
        // A head that arrived whole in one read is held to the limit too.
        if cursor.index > limits.maxHeadBytes { return .refused(.tooLarge("the head is larger than \(limits.maxHeadBytes) bytes")) }
        if semantics.hostCount > 1 { return .refused(.malformed("the request has more than one Host field")) }
        if minor == 1, semantics.hostCount == 0 { return .refused(.malformed("an HTTP/1.1 request has no Host field")) }
        if minor == 0, !semantics.close, !keepAliveRequested(fields, bytes) { semantics.close = true }
        return .complete(ParsedRequestHead(method: method, target: target, minorVersion: minor, fields: fields, semantics: semantics, length: cursor.index))
    }

    /// RFC 9112 §3.2: `/path?query`; `scheme://…`; `host:port` for CONNECT; `*` for OPTIONS.
    private static func isRequestTarget(_ bytes: UnsafeRawBufferPointer, _ target: HeadSpan, method: HeadSpan) -> Bool {
        let first = bytes[target.start]
        if first == UInt8(ascii: "/") { return true }
        if target.count == 1, first == UInt8(ascii: "*") { return equalsLowercase(bytes, method, "options") && bytes[method.start] == UInt8(ascii: "O") }
        if equalsLowercase(bytes, method, "connect"), bytes[method.start] == UInt8(ascii: "C") {
            // authority-form: host ":" port, no path.
            var colon: Int?
            for i in target.start..<target.end {
                let byte = bytes[i]
                if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") || byte == UInt8(ascii: "@") { return false }
                if byte == UInt8(ascii: ":") { colon = i }
            }
            guard let colon, colon > target.start, colon + 1 < target.end else { return false }
            return (colon + 1..<target.end).allSatisfy { bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }
        }
        // absolute-form: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) "://"
        guard (first | 0x20) >= 0x61, (first | 0x20) <= 0x7A else { return false }
        var i = target.start + 1
        while i < target.end {
            let byte = bytes[i]
            if byte == UInt8(ascii: ":") {
                return i + 2 < target.end && bytes[i + 1] == UInt8(ascii: "/") && bytes[i + 2] == UInt8(ascii: "/")
            }
            let lower = byte | 0x20
            guard (lower >= 0x61 && lower <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2B || byte == 0x2D || byte == 0x2E else { return false }
            i += 1
        }
        return false
    }

    // MARK: Responses

    /// - Parameter requestMethodWasHead: a response to HEAD has no body, whatever it declares.
    public static func parseResponse(
        _ bytes: UnsafeRawBufferPointer, requestMethodWasHead: Bool = false, limits: Limits = .init()
    ) -> Outcome<ParsedResponseHead> {
        var cursor = Cursor(bytes: bytes, limit: limits.maxHeadBytes)
        let minor: Int
        switch cursor.version() {
        case .found(let major, let m):
            guard major == 1, m <= 1 else { return .refused(.malformed("the status line's version is not HTTP/1.0 or HTTP/1.1")) }
            minor = m
        case .incomplete: return cursor.incomplete()
        case .invalid: return .refused(.malformed("the status line does not start with HTTP/<digit>.<digit>"))
        }
        guard let space = cursor.peek(0) else { return cursor.incomplete() }
        guard space == .space else { return .refused(.malformed("no space after the version")) }
        cursor.index += 1
        var status = 0
        for _ in 0..<3 {
            guard let digit = cursor.peek(0) else { return cursor.incomplete() }
            guard digit >= 0x30, digit <= 0x39 else { return .refused(.malformed("the status code is not three digits")) }
            status = status * 10 + Int(digit - 0x30)
            cursor.index += 1
        }
        guard status >= 100 else { return .refused(.malformed("the status code is below 100")) }
        guard let after = cursor.peek(0) else { return cursor.incomplete() }
        var reason = HeadSpan(start: cursor.index, count: 0)
        if after == .space {
            cursor.index += 1
            reason.start = cursor.index
            while let byte = cursor.peek(0), byte != .cr {
                guard byte == .tab || (byte >= 0x20 && byte != 0x7F) else { return .refused(.malformed("the reason phrase has a control byte")) }
                cursor.index += 1
            }
            reason.count = cursor.index - reason.start
        }
        switch cursor.endOfLine() {
        case .found: break
        case .incomplete: return cursor.incomplete()
        case .invalid: return .refused(.malformed("the status line does not end with CRLF"))
        }
        var fields: [HeadField] = []
        fields.reserveCapacity(16)
        var semantics = HeadSemantics()
        switch fieldLines(&cursor, limits: limits, into: &fields, semantics: &semantics, isRequest: false) {
        case .some(.refused(let refusal)): return .refused(refusal)
        case .some(.incomplete): return cursor.incomplete()
        case .none: break
        }
        // A head that arrived whole in one read is held to the limit too.
        if cursor.index > limits.maxHeadBytes { return .refused(.tooLarge("the head is larger than \(limits.maxHeadBytes) bytes")) }
        // RFC 9112 §6.3: these have no body whatever they declare.
        if requestMethodWasHead || (100...199).contains(status) || status == 204 || status == 304 {
            semantics.framing = .none
        } else if semantics.framing == .none {
            semantics.framing = .untilClose
        }
        if minor == 0, !semantics.close, !keepAliveRequested(fields, bytes) { semantics.close = true }
        return .complete(ParsedResponseHead(minorVersion: minor, status: status, reason: reason, fields: fields, semantics: semantics, length: cursor.index))
    }

    // MARK: Field lines

    private enum Stop: Equatable {
        case incomplete
        case refused(HeadRefusal)
    }

    /// Reads field lines up to and including the blank line.
    private static func fieldLines(
        _ cursor: inout Cursor, limits: Limits, into fields: inout [HeadField], semantics: inout HeadSemantics, isRequest: Bool
    ) -> Stop? {
        var contentLength: Int64?
        var transferEncoding = TransferCodings()
        while true {
            guard let first = cursor.peek(0) else { return .incomplete }
            if first == .cr {
                guard let second = cursor.peek(1) else { return .incomplete }
                guard second == .lf else { return .refused(.malformed("a bare CR in the head")) }
                cursor.index += 2
                break
            }
            if first == .lf { return .refused(.malformed("a bare LF in the head")) }
            if first == .space || first == .tab { return .refused(.malformed("obsolete line folding (a field line starting with whitespace)")) }
            let name: HeadSpan
            switch cursor.token(endingWith: .colon) {
            case .found(let span): name = span
            case .incomplete: return .incomplete
            case .invalid: return .refused(.malformed("a field name is not a token, or has whitespace before its colon"))
            }
            while let byte = cursor.peek(0), byte == .space || byte == .tab { cursor.index += 1 }
            let valueStart = cursor.index
            var valueEnd = valueStart
            while true {
                guard let byte = cursor.peek(0) else { return .incomplete }
                if byte == .cr { break }
                guard byte == .tab || (byte >= 0x20 && byte != 0x7F) else {
                    return .refused(.malformed(byte == .lf ? "a bare LF in a field value" : "a control byte in a field value"))
                }
                cursor.index += 1
                if byte != .space, byte != .tab { valueEnd = cursor.index }
            }
            guard let lf = cursor.peek(1) else { return .incomplete }
            guard lf == .lf else { return .refused(.malformed("a bare CR in a field value")) }
            let paddedAfter = cursor.index != valueEnd
            cursor.index += 2
            guard fields.count < limits.maxFields else { return .refused(.tooLarge("more than \(limits.maxFields) header fields")) }
            let field = HeadField(name: name, value: HeadSpan(start: valueStart, count: valueEnd - valueStart))
            fields.append(field)
            if let stop = interpret(field, paddedAfter: paddedAfter, cursor.bytes, &semantics, &contentLength, &transferEncoding) { return stop }
        }
        if contentLength != nil, transferEncoding.present {
            return .refused(.malformed("both Content-Length and Transfer-Encoding (a request smuggling vector)"))
        }
        if transferEncoding.present {
            guard transferEncoding.endsChunked else {
                if isRequest { return .refused(.malformed("Transfer-Encoding does not end with chunked")) }
                semantics.framing = .untilClose
                return nil
            }
            semantics.framing = .chunked
        } else if let contentLength {
            semantics.framing = contentLength == 0 && isRequest ? .none : .length(contentLength)
        }
        return nil
    }

    /// The codings of all Transfer-Encoding fields, as one list.
    private struct TransferCodings {
        var present = false
        var chunkedCount = 0
        var lastIsChunked = false
        var endsChunked: Bool { chunkedCount == 1 && lastIsChunked }
    }

    /// What one field means for framing and the connection.
    private static func interpret(
        _ field: HeadField, paddedAfter: Bool, _ bytes: UnsafeRawBufferPointer, _ semantics: inout HeadSemantics, _ contentLength: inout Int64?,
        _ codings: inout TransferCodings
    ) -> Stop? {
        let name = field.name
        switch name.count {
        case 4 where equalsLowercase(bytes, name, "host"):
            semantics.hostCount += 1
        case 6 where equalsLowercase(bytes, name, "expect"):
            if equalsLowercase(bytes, field.value, "100-continue") { semantics.expectContinue = true }
        case 7 where equalsLowercase(bytes, name, "upgrade"):
            break
        case 10 where equalsLowercase(bytes, name, "connection"):
            forEachListItem(bytes, field.value) { item in
                if equalsLowercase(bytes, item, "close") { semantics.close = true }
                if equalsLowercase(bytes, item, "upgrade") { semantics.upgrade = true }
            }
        case 14 where equalsLowercase(bytes, name, "content-length"):
            guard contentLength == nil else { return .refused(.malformed("more than one Content-Length")) }
            // Whitespace after the number is legal OWS, but parsers disagree on it (llhttp
            // refuses it): a length must read one way only.
            guard !paddedAfter else { return .refused(.malformed("whitespace after the Content-Length value")) }
            guard field.value.count > 0, field.value.count <= 18 else { return .refused(.malformed("Content-Length is not a number below 10^18")) }
            var value: Int64 = 0
            for i in field.value.start..<field.value.end {
                let byte = bytes[i]
                guard byte >= 0x30, byte <= 0x39 else { return .refused(.malformed("Content-Length is not digits only")) }
                value = value * 10 + Int64(byte - 0x30)
            }
            contentLength = value
        case 17 where equalsLowercase(bytes, name, "transfer-encoding"):
            // As for Content-Length: trailing whitespace is read differently by different parsers.
            guard !paddedAfter else { return .refused(.malformed("whitespace after the Transfer-Encoding value")) }
            codings.present = true
            // A trailing comma would make chunked not the last coding for some parsers (llhttp)
            // and the last for others: refused, so the framing reads one way.
            if field.value.count > 0, bytes[field.value.end - 1] == UInt8(ascii: ",") {
                return .refused(.malformed("Transfer-Encoding ends with an empty coding"))
            }
            // Other empty list elements are ignored (RFC 9110 §5.6.1).
            forEachListItem(bytes, field.value) { item in
                let chunked = equalsLowercase(bytes, item, "chunked")
                if chunked { codings.chunkedCount += 1 }
                codings.lastIsChunked = chunked
            }
        default:
            break
        }
        return nil
    }

    /// HTTP/1.0 keeps the connection only when asked with `Connection: keep-alive`.
    private static func keepAliveRequested(_ fields: [HeadField], _ bytes: UnsafeRawBufferPointer) -> Bool {
        var found = false
        for field in fields where field.name.count == 10 && equalsLowercase(bytes, field.name, "connection") {
            forEachListItem(bytes, field.value) { item in if equalsLowercase(bytes, item, "keep-alive") { found = true } }
        }
        return found
    }

    /// Comma-separated items, each without surrounding whitespace (RFC 9110 §5.6.1).
    private static func forEachListItem(_ bytes: UnsafeRawBufferPointer, _ value: HeadSpan, _ body: (HeadSpan) -> Void) {
        var start = value.start
        var i = value.start
        while i <= value.end {
            if i == value.end || bytes[i] == UInt8(ascii: ",") {
                var s = start, e = i
                while s < e, bytes[s] == .space || bytes[s] == .tab { s += 1 }
                while e > s, bytes[e - 1] == .space || bytes[e - 1] == .tab { e -= 1 }
                if e > s { body(HeadSpan(start: s, count: e - s)) }
                start = i + 1
            }
            i += 1
        }
    }

    /// Whether the span equals `lowercase` (a lowercase ASCII literal) ignoring ASCII case.
    static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ span: HeadSpan, _ lowercase: StaticString) -> Bool {
        guard span.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            for i in 0..<span.count {
                let byte = bytes[span.start + i]
                // Only an uppercase letter folds; every other byte must match as it is.
                let folded = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                if folded != expected[i] { return false }
            }
            return true
        }
    }

    /// RFC 9110 tchar.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool { tokenTable[Int(byte)] }

    private static let tokenTable: [Bool] = (0..<256).map { value in
        let byte = UInt8(value)
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

/// A position in the head's bytes, bounded by the head size limit.
private struct Cursor {
    let bytes: UnsafeRawBufferPointer
    let limit: Int
    var index = 0

    init(bytes: UnsafeRawBufferPointer, limit: Int) {
        self.bytes = bytes
        self.limit = limit
    }

    /// The byte `offset` ahead, or nil past the bytes read so far.
    @inline(__always)
    func peek(_ offset: Int) -> UInt8? {
        let i = index + offset
        return i < bytes.count ? bytes[i] : nil
    }

    /// Incomplete, unless the bytes read already pass the limit without ending the head.
    func incomplete<Head>() -> HTTPHeadParser.Outcome<Head> {
        bytes.count > limit ? .refused(.tooLarge("the head is larger than \(limit) bytes")) : .incomplete
    }

    enum TokenResult { case found(HeadSpan), incomplete, invalid }

    /// A token followed by `terminator` (consumed).
    mutating func token(endingWith terminator: UInt8) -> TokenResult {
        let start = index
        while let byte = peek(0) {
            if byte == terminator {
                guard index > start else { return .invalid }
                index += 1
                return .found(HeadSpan(start: start, count: index - 1 - start))
            }
            guard HTTPHeadParser.isTokenByte(byte) else { return .invalid }
            index += 1
        }
        return .incomplete
    }

    enum VersionResult { case found(major: Int, minor: Int), incomplete, invalid }

    /// `HTTP/<digit>.<digit>`.
    mutating func version() -> VersionResult {
        let expected: [UInt8] = [0x48, 0x54, 0x54, 0x50, 0x2F]
        for (i, byte) in expected.enumerated() {
            guard let b = peek(i) else { return .incomplete }
            guard b == byte else { return .invalid }
        }
        guard let major = peek(5) else { return .incomplete }
        guard let dot = peek(6) else { return .incomplete }
        guard let minor = peek(7) else { return .incomplete }
        guard major >= 0x30, major <= 0x39, dot == 0x2E, minor >= 0x30, minor <= 0x39 else { return .invalid }
        index += 8
        return .found(major: Int(major - 0x30), minor: Int(minor - 0x30))
    }

    enum LineEnd { case found, incomplete, invalid }

    mutating func endOfLine() -> LineEnd {
        guard let cr = peek(0) else { return .incomplete }
        guard cr == .cr else { return .invalid }
        guard let lf = peek(1) else { return .incomplete }
        guard lf == .lf else { return .invalid }
        index += 2
        return .found
    }
}

extension UInt8 {
    fileprivate static let cr: UInt8 = 0x0D
    fileprivate static let lf: UInt8 = 0x0A
    fileprivate static let space: UInt8 = 0x20
    fileprivate static let tab: UInt8 = 0x09
    fileprivate static let colon: UInt8 = 0x3A
}
