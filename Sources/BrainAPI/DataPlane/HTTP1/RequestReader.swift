import BrainHTTP1
import BrainInfrastructure
import NIOCore

/// Turns a client connection's bytes into requests: a value that is given each read and asked
/// for the next event — a head, a piece of body, the end of a request, or a refusal.
///
/// Nothing is copied: heads and body pieces are slices of the reads. Bytes the owner does not
/// ask for yet (a pipelined request behind a response still going out) stay here until it
/// does, so the reader is also the pipelining queue. After a request asking for a protocol
/// upgrade, or a refusal, it reads nothing more: the connection is a tunnel or is closing.
struct RequestReader {
    enum Event {
        case head(RequestHead)
        case body(ByteBuffer)
        case end
        /// Not HTTP/1.1 the gateway accepts (the reason's status: 400, 431 or 505).
        case refused(HeadRefusal)
    }

    private enum State {
        case head
        /// A body of this many bytes still to come.
        case fixed(remaining: Int64)
        case chunked(ChunkedBodyDecoder)
        /// The body is complete: `end` is the next event.
        case ending(thenStop: Bool)
        /// After an upgrade request or a refusal.
        case stopped
    }

    private var state: State = .head
    private var bytes = MessageBytes()
    private let limits: HTTPHeadParser.Limits
    /// Set by the head of a request asking for an upgrade: nothing after it is HTTP.
    private var upgradeRequested = false

    init(limits: HTTPHeadParser.Limits) {
        self.limits = limits
    }

    /// Bytes are waiting that no event has taken yet.
    var hasBufferedBytes: Bool { !bytes.isEmpty }

    mutating func read(_ bytes: ByteBuffer) {
        if case .stopped = state { return }
        self.bytes.append(bytes)
    }

    /// The next event from the bytes read so far; nil when it needs more.
    mutating func next() -> Event? {
        switch state {
        case .stopped:
            return nil
        case .ending(let thenStop):
            state = thenStop ? .stopped : .head
            if thenStop { bytes.discard() }
            return .end
        case .head:
            return nextHead()
        case .fixed(let remaining):
            guard let piece = bytes.take(upTo: remaining) else { return nil }
            let left = remaining - Int64(piece.readableBytes)
            state = left == 0 ? .ending(thenStop: upgradeRequested) : .fixed(remaining: left)
            return .body(piece)
        case .chunked(var decoder):
            switch bytes.takeChunk(&decoder) {
            case .data(let piece):
                state = .chunked(decoder)
                return .body(piece)
            case .needMore:
                state = .chunked(decoder)
                return nil
            case .end:
                state = .ending(thenStop: upgradeRequested)
                return next()
            case .refused(let why):
                state = .stopped
                bytes.discard()
                return .refused(.malformed(why))
            }
        }
    }

    private mutating func nextHead() -> Event? {
        let limits = self.limits
        switch bytes.takeHead({ HTTPHeadParser.parseRequest($0, limits: limits) }, length: \.length) {
        case .incomplete:
            return nil
        case .refused(let refusal):
            state = .stopped
            return .refused(refusal)
        case .complete(let parsed, let headBytes):
            upgradeRequested = parsed.semantics.upgrade
            switch parsed.semantics.framing {
            case .none, .length(0), .untilClose:
                state = .ending(thenStop: upgradeRequested)
            case .length(let length):
                state = .fixed(remaining: length)
            case .chunked:
                state = .chunked(ChunkedBodyDecoder())
            }
            return .head(RequestHead(bytes: headBytes, parsed: parsed))
        }
    }
}
