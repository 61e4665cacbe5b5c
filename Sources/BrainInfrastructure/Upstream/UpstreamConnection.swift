import BrainDomain
import NIOCore
import NIOHTTP1

/// Why an upstream exchange failed, as the proxy maps it to a status (connect errors, closed
/// connections and invalid responses → 502, timeouts → 504). Its description is what logs,
/// `/health` and 502 details show: a few plain words.
public enum UpstreamFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// TCP/TLS connect failed; the reason as `UpstreamErrorText` words it ("connection refused").
    case connectFailed(String)
    /// The connection closed or reset before the response ended.
    case connectionClosed
    /// The upstream sent something that is not an HTTP/1.1 response.
    case invalidResponse(String)
    /// No response head within the service's timeout.
    case timedOut(afterMilliseconds: Int)

    public static func connectFailed(_ error: any Error) -> Self {
        if let failure = error as? UpstreamFailure { return failure }
        return .connectFailed(UpstreamErrorText.describe(error))
    }

    public var description: String {
        switch self {
        case .connectFailed(let why): why
        case .connectionClosed: "connection closed before the response ended"
        case .invalidResponse(let why): "invalid response: \(why)"
        case .timedOut(let ms): "timed out after \(UpstreamErrorText.seconds(Double(ms) / 1000))"
        }
    }
}

/// What an upstream connection reports to the exchange currently using it. All calls happen on
/// the connection's event loop, which is also the client connection's loop.
public protocol UpstreamResponseReceiver: AnyObject {
    func upstreamResponseHead(_ head: UpstreamResponseHead)
    func upstreamResponseBody(_ body: ByteBuffer)
    func upstreamResponseEnd()
    func upstreamFailed(_ failure: UpstreamFailure)
    func upstreamWritabilityChanged(isWritable: Bool)
    /// The upstream finished a read burst: a good moment to flush what was written to the client.
    func upstreamReadComplete()
}

/// One keep-alive HTTP/1.1 connection to an instance, and the last handler of its pipeline.
///
/// Requests go out as bytes the gateway composed; responses are read by `ResponseReader`
/// (heads and body pieces as slices of the reads) and relayed to the current receiver. Socket
/// reads are held back while the receiver cannot take more (backpressure), and the pool hears
/// of the close. Everything runs on one event loop, so no state here is shared across threads.
public final class UpstreamConnection: ChannelDuplexHandler, Hashable, @unchecked Sendable {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    public let instance: UpstreamInstance
    public private(set) var channel: (any Channel)?
    private var context: ChannelHandlerContext?
    private var reader = ResponseReader()
    /// The request being sent has a chunked body: each part is framed here.
    private var requestChunked = false

    /// The exchange using this connection; nil while pooled. Strong, and cleared whenever the
    /// exchange lets go (the pool's release, a failure, an abandoned exchange): a weak
    /// reference would give every receiver — a client connection's handler — a side table,
    /// sending each of its many retains per request through the runtime's slow path.
    public var receiver: (any UpstreamResponseReceiver)?
    /// Called once when the channel closes, so a pool can forget an idle connection.
    var onClose: ((UpstreamConnection) -> Void)?

    private var readsPaused = false
    private var readPending = false
    /// Whether the current response allows reusing the connection afterwards.
    public private(set) var responseKeepAlive = true
    public private(set) var isClosed = false

    init(instance: UpstreamInstance) {
        self.instance = instance
    }

    /// By identity: the pool tells connections apart, not their contents.
    public static func == (lhs: UpstreamConnection, rhs: UpstreamConnection) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.channel = context.channel
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Outbound

    /// Writes a request head composed as bytes; `chunked` when its body is sent in chunks.
    public func writeHead(_ bytes: ByteBuffer, method: HTTPMethod, chunked: Bool) {
        guard let context else { return }
        reader.expectResponse(toHead: method == .HEAD)
        requestChunked = chunked
        context.write(wrapOutboundOut(bytes), promise: nil)
    }

    /// Writes a part of the request body (not flushed).
    public func writeBody(_ part: ByteBuffer) {
        guard let context else { return }
        if requestChunked {
            ChunkedFraming.write(part, at: context)
        } else {
            context.write(wrapOutboundOut(part), promise: nil)
        }
    }

    /// Ends the request body and flushes.
    public func writeEnd() {
        guard let context else { return }
        if requestChunked {
            requestChunked = false
            context.writeAndFlush(wrapOutboundOut(ChunkedFraming.lastChunk), promise: nil)
        } else {
            context.flush()
        }
    }

    public func flush() {
        context?.flush()
    }

    public var isWritable: Bool { context?.channel.isWritable ?? false }

    /// Stops reading the upstream socket until `resumeReading()`.
    public func pauseReading() { readsPaused = true }

    public func resumeReading() {
        guard readsPaused else { return }
        readsPaused = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        context?.close(promise: nil)
    }

    public func read(context: ChannelHandlerContext) {
        if readsPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    // MARK: Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reader.read(unwrapInboundIn(data))
        while let event = reader.next() {
            switch event {
            case .head(let head):
                responseKeepAlive = head.isKeepAlive
                receiver?.upstreamResponseHead(head)
            case .body(let buffer):
                receiver?.upstreamResponseBody(buffer)
            case .end:
                // Bytes beyond the response: the upstream is out of step, never reuse it.
                if reader.hasBufferedBytes { responseKeepAlive = false }
                receiver?.upstreamResponseEnd()
            case .refused(let why):
                fail(.invalidResponse(why))
                close()
                return
            }
        }
        if !reader.isReadingResponse, reader.hasBufferedBytes {
            // Bytes nobody asked for.
            responseKeepAlive = false
            if receiver == nil { close() }
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        receiver?.upstreamReadComplete()
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        receiver?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(.connectionClosed)
        close()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        if case .end = reader.connectionClosed() {
            // A body delimited by the close: complete.
            responseKeepAlive = false
            receiver?.upstreamResponseEnd()
        }
        fail(.connectionClosed)
        let hook = onClose
        onClose = nil
        hook?(self)
    }

    private func fail(_ failure: UpstreamFailure) {
        guard let r = receiver else { return }
        receiver = nil
        r.upstreamFailed(failure)
    }
}
