import BrainHTTP1
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
    private var buffered: ByteBuffer?
    private let limits: HTTPHeadParser.Limits
    /// Set by the head of a request asking for an upgrade: nothing after it is HTTP.
    private var upgradeRequested = false

    init(limits: HTTPHeadParser.Limits) {
        self.limits = limits
    }

    /// Bytes are waiting that no event has taken yet.
    var hasBufferedBytes: Bool { (buffered?.readableBytes ?? 0) > 0 }

    /// A request head has started arriving and is not complete.
    var isInsideHead: Bool {
        if case .head = state { return hasBufferedBytes }
        return false
    }

    /// Between requests (or stopped): no request is being read.
    var isBetweenRequests: Bool {
        switch state {
        case .head, .stopped: true
        default: false
        }
    }

    mutating func read(_ bytes: ByteBuffer) {
        if case .stopped = state { return }
        guard var pending = buffered, pending.readableBytes > 0 else {
            buffered = bytes
            return
        }
        // Released first, so appending writes in place rather than copying the storage.
        buffered = nil
        var bytes = bytes
        pending.writeBuffer(&bytes)
        buffered = pending
    }

    /// The next event from the bytes read so far; nil when it needs more.
    mutating func next() -> Event? {
        switch state {
        case .stopped:
            return nil
        case .ending(let thenStop):
            state = thenStop ? .stopped : .head
            if thenStop { buffered = nil }
            return .end
        case .head:
            return nextHead()
        case .fixed(let remaining):
            guard var bytes = buffered, bytes.readableBytes > 0 else { return nil }
            buffered = nil
            let count = Int(min(Int64(bytes.readableBytes), remaining))
            guard let piece = bytes.readSlice(length: count) else { return nil }
            buffered = bytes
            state = remaining == Int64(count) ? .ending(thenStop: upgradeRequested) : .fixed(remaining: remaining - Int64(count))
            return .body(piece)
        case .chunked(var decoder):
            return nextChunk(&decoder)
        }
    }

    private mutating func nextHead() -> Event? {
        guard var bytes = buffered, bytes.readableBytes > 0 else { return nil }
        let outcome = bytes.withUnsafeReadableBytes { HTTPHeadParser.parseRequest($0, limits: limits) }
        switch outcome {
        case .incomplete:
            return nil
        case .refused(let refusal):
            state = .stopped
            buffered = nil
            return .refused(refusal)
        case .complete(let parsed):
            buffered = nil
            guard let headBytes = bytes.readSlice(length: parsed.length) else { return nil }
            buffered = bytes
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

    private mutating func nextChunk(_ decoder: inout ChunkedBodyDecoder) -> Event? {
        guard var bytes = buffered, bytes.readableBytes > 0 else { return nil }
        buffered = nil
        while true {
            var index = 0
            let step = bytes.withUnsafeReadableBytes { decoder.next($0, index: &index) }
            switch step {
            case .data(let span):
                let piece = bytes.getSlice(at: bytes.readerIndex + span.start, length: span.count)
                bytes.moveReaderIndex(forwardBy: index)
                buffered = bytes
                state = .chunked(decoder)
                if let piece { return .body(piece) }
            case .needMore:
                state = .chunked(decoder)
                return nil
            case .end:
                bytes.moveReaderIndex(forwardBy: index)
                buffered = bytes
                state = .ending(thenStop: upgradeRequested)
                return next()
            case .refused(let why):
                state = .stopped
                return .refused(.malformed(why))
            }
        }
    }
}
