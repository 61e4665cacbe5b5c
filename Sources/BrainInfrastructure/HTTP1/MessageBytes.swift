import BrainHTTP1
import NIOCore

/// A connection's bytes not taken yet, and the ways a message reader takes them: a head at the
/// front, a piece of a body of known length, a piece of a chunked body, or everything. Shared by
/// the request and response readers; every piece is a slice of the reads, never a copy.
public struct MessageBytes {
    private var buffered: ByteBuffer?

    public init() {}

    public var isEmpty: Bool { (buffered?.readableBytes ?? 0) == 0 }

    public mutating func append(_ bytes: ByteBuffer) {
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

    public mutating func discard() { buffered = nil }

    public enum HeadStep<Head> {
        case incomplete
        /// The head and its bytes (taken off the front).
        case complete(Head, ByteBuffer)
        case refused(HeadRefusal)
    }

    /// Parses a head at the front with `parse`; `length` says how many bytes a parsed head took.
    public mutating func takeHead<Head>(
        _ parse: (UnsafeRawBufferPointer) -> HTTPHeadParser.Outcome<Head>, length: (Head) -> Int
    ) -> HeadStep<Head> {
        guard var bytes = buffered, bytes.readableBytes > 0 else { return .incomplete }
        switch bytes.withUnsafeReadableBytes(parse) {
        case .incomplete:
            return .incomplete
        case .refused(let refusal):
            buffered = nil
            return .refused(refusal)
        case .complete(let head):
            buffered = nil
            guard let headBytes = bytes.readSlice(length: length(head)) else { return .incomplete }
            buffered = bytes
            return .complete(head, headBytes)
        }
    }

    /// Up to `remaining` bytes of a body of known length; nil when none are here.
    public mutating func take(upTo remaining: Int64) -> ByteBuffer? {
        guard var bytes = buffered, bytes.readableBytes > 0 else { return nil }
        buffered = nil
        let piece = bytes.readSlice(length: Int(min(Int64(bytes.readableBytes), remaining)))
        buffered = bytes
        return piece
    }

    /// Everything here (a body delimited by the connection's close).
    public mutating func takeAll() -> ByteBuffer? {
        guard let bytes = buffered, bytes.readableBytes > 0 else { return nil }
        buffered = nil
        return bytes
    }

    public enum ChunkStep {
        case data(ByteBuffer)
        case needMore
        /// The last chunk and trailers were read; what follows is the next message.
        case end
        case refused(String)
    }

    /// The next piece of a chunked body, as `decoder` reads it.
    public mutating func takeChunk(_ decoder: inout ChunkedBodyDecoder) -> ChunkStep {
        guard var bytes = buffered, bytes.readableBytes > 0 else { return .needMore }
        buffered = nil
        while true {
            var index = 0
            let step = bytes.withUnsafeReadableBytes { decoder.next($0, index: &index) }
            switch step {
            case .data(let span):
                let piece = bytes.getSlice(at: bytes.readerIndex + span.start, length: span.count)
                bytes.moveReaderIndex(forwardBy: index)
                buffered = bytes
                if let piece { return .data(piece) }
            case .needMore:
                return .needMore
            case .end:
                bytes.moveReaderIndex(forwardBy: index)
                buffered = bytes
                return .end
            case .refused(let why):
                return .refused(why)
            }
        }
    }
}
