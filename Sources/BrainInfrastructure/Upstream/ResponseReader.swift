import BrainHTTP1
import NIOCore
import NIOHTTP1

/// An upstream's response head as it was read: the head's bytes (a slice of the read buffer)
/// and where each part of it is, so relaying it copies byte ranges and makes no string per field.
public struct UpstreamResponseHead: Sendable {
    public let parsed: ParsedResponseHead
    /// Stored, not computed: the stages read fields several times per response, and each
    /// computed view would copy (retain) the buffer and the span array again.
    public let headers: HeadFields
    public var bytes: ByteBuffer { headers.bytes }

    public init(bytes: ByteBuffer, parsed: ParsedResponseHead) {
        self.parsed = parsed
        self.headers = HeadFields(bytes: bytes, fields: parsed.fields)
    }

    public var status: HTTPResponseStatus {
        let status = HTTPResponseStatus(statusCode: parsed.status)
        guard case .custom = status, parsed.reason.count > 0 else { return status }
        let reason = bytes.getString(at: bytes.readerIndex + parsed.reason.start, length: parsed.reason.count) ?? ""
        return HTTPResponseStatus(statusCode: parsed.status, reasonPhrase: reason)
    }

    /// The upstream lets the connection carry another request afterwards.
    public var isKeepAlive: Bool { !parsed.semantics.close }
}

/// Turns an upstream connection's bytes into responses: a value told when a request went out
/// (and whether it was a HEAD, whose answer has no body), given each read, and asked for the
/// next event — a head, a piece of body, the end, or a refusal.
///
/// Heads and body pieces are slices of the reads. Informational responses (`100 Continue`,
/// `103 Early Hints`) are read past: the gateway answers `Expect` itself and relays only the
/// final response. A body delimited by the connection's close ends when `connectionClosed()`
/// says so. Bytes when no request is outstanding, or left over after a response, make the
/// connection unfit for reuse (`hasBufferedBytes`).
public struct ResponseReader {
    public enum Event {
        case head(UpstreamResponseHead)
        case body(ByteBuffer)
        case end
        /// Not an HTTP/1.1 response the gateway accepts, in plain words.
        case refused(String)
    }

    private enum State {
        /// No request is outstanding.
        case idle
        case head(requestWasHead: Bool)
        case fixed(remaining: Int64)
        case chunked(ChunkedBodyDecoder)
        case untilClose
        case ending
        case stopped
    }

    private var state: State = .idle
    private var bytes = MessageBytes()
    private let limits: HTTPHeadParser.Limits

    public init(limits: HTTPHeadParser.Limits = .init(maxHeadBytes: 64 * 1024, maxFields: 200)) {
        self.limits = limits
    }

    public var hasBufferedBytes: Bool { !bytes.isEmpty }

    /// A request went out: its response is next. False when the connection cannot take one
    /// (a response is still being read, or it was refused).
    @discardableResult
    public mutating func expectResponse(toHead requestWasHead: Bool) -> Bool {
        guard case .idle = state else { return false }
        state = .head(requestWasHead: requestWasHead)
        return true
    }

    public mutating func read(_ bytes: ByteBuffer) {
        if case .stopped = state { return }
        self.bytes.append(bytes)
    }

    public mutating func next() -> Event? {
        switch state {
        case .idle, .stopped:
            return nil
        case .ending:
            state = .idle
            return .end
        case .head(let requestWasHead):
            return nextHead(requestWasHead: requestWasHead)
        case .fixed(let remaining):
            guard let piece = bytes.take(upTo: remaining) else { return nil }
            let left = remaining - Int64(piece.readableBytes)
            state = left == 0 ? .ending : .fixed(remaining: left)
            return .body(piece)
        case .untilClose:
            return bytes.takeAll().map { .body($0) }
        case .chunked(var decoder):
            switch bytes.takeChunk(&decoder) {
            case .data(let piece):
                state = .chunked(decoder)
                return .body(piece)
            case .needMore:
                state = .chunked(decoder)
                return nil
            case .end:
                state = .idle
                return .end
            case .refused(let why):
                state = .stopped
                bytes.discard()
                return .refused(why)
            }
        }
    }

    /// The connection closed: the end of a body delimited by it, or nil (a failure, unless no
    /// response was outstanding).
    public mutating func connectionClosed() -> Event? {
        guard case .untilClose = state else { return nil }
        state = .stopped
        return .end
    }

    /// Whether a response is being read (or awaited).
    public var isReadingResponse: Bool {
        switch state {
        case .idle, .stopped: false
        default: true
        }
    }

    private mutating func nextHead(requestWasHead: Bool) -> Event? {
        let limits = self.limits
        let step = bytes.takeHead({ HTTPHeadParser.parseResponse($0, requestMethodWasHead: requestWasHead, limits: limits) }, length: \.length)
        switch step {
        case .incomplete:
            return nil
        case .refused(let refusal):
            state = .stopped
            return .refused(Self.describe(refusal))
        case .complete(let parsed, let headBytes):
            if parsed.status == 101 {
                state = .stopped
                return .refused("switched protocols on a request that asked for no upgrade")
            }
            if parsed.status < 200 {
                // Informational: the final response follows.
                return nextHead(requestWasHead: requestWasHead)
            }
            switch parsed.semantics.framing {
            case .none, .length(0): state = .ending
            case .length(let length): state = .fixed(remaining: length)
            case .chunked: state = .chunked(ChunkedBodyDecoder())
            case .untilClose: state = .untilClose
            }
            return .head(UpstreamResponseHead(bytes: headBytes, parsed: parsed))
        }
    }

    private static func describe(_ refusal: HeadRefusal) -> String {
        switch refusal {
        case .malformed(let why), .tooLarge(let why): why
        case .unsupportedVersion: "not HTTP/1.x"
        }
    }
}
