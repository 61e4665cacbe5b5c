import BrainInfrastructure
import NIOCore
import NIOHTTP1

/// Header-rewrite stage for the response relayed to the client: hop-by-hop fields dropped
/// (the client connection's own framing is the encoder's job), every other field relayed in
/// order (several `Set-Cookie` stay several), `X-Request-ID` set to the gateway's id.
public struct ResponseHeaders: Sendable {
    public init() {}

    public func build(
        from upstream: some ResponseHeadReading, clientVersion: HTTPVersion, requestID: String, keepAlive: Bool,
        rateLimit: RateLimiting.Verdict? = nil, cacheStatus: String? = nil
    ) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(16)
        _ = rewriteFields(of: upstream, dropLength: false, requestID: requestID, rateLimit: rateLimit, cacheStatus: cacheStatus, into: &headers)
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        }
        return HTTPResponseHead(version: clientVersion, status: upstream.status, headers: headers)
    }

    /// The rewrite both outputs share: the relayed fields, then the gateway's. Returns whether
    /// a `Content-Length` was relayed (`dropLength` leaves it out, for body-less answers).
    private func rewriteFields<Sink: HeaderFieldSink>(
        of upstream: some ResponseHeadReading, dropLength: Bool, requestID: String, rateLimit: RateLimiting.Verdict?, cacheStatus: String?,
        into sink: inout Sink
    ) -> Bool {
        var hasLength = false
        let start = sink.fieldMark
        HopByHopHeaders.forEachField(of: upstream.headers, restart: { sink.rewind(to: start); hasLength = false }) { name, value, role, listed in
            switch role {
            case .hopByHop, .transferEncoding, .requestID:
                return
            case .ordinary, .gatewayOwned, .forwardedFor:
                if listed { return }
                if HeaderBytes.equal(name, "content-length") {
                    if dropLength { return }
                    hasLength = true
                }
                sink.addField(name: name, value: value)
            }
        }
        sink.addField("X-Request-ID", requestID)
        rateLimit?.append(to: &sink)
        if let cacheStatus { sink.addField("X-Cache", cacheStatus) }
        return hasLength
    }

    /// How the relayed body is delimited on the client connection.
    public enum Framing: Equatable, Sendable {
        /// `Content-Length` from the upstream: body bytes pass through as they are.
        case contentLength
        /// No length known (the upstream chunked or closed to end it): each part is re-framed as a chunk.
        case chunked
        /// The response has no body (HEAD, 1xx, 204, 304).
        case none
        /// An HTTP/1.0 client and no length: the body ends when the connection closes.
        case untilClose
    }

    /// The same rewrite as `build`, written straight into the bytes of the client response head.
    ///
    /// This is the data plane's path: no `HTTPHeaders` copy and no trip through NIO's response
    /// encoder (which would copy the head again into a buffer of its own). The framing rules
    /// are the encoder's: a body-less status drops the length fields, a known length is kept,
    /// anything else is chunked for HTTP/1.1 or delimited by close for HTTP/1.0.
    public func write(
        from upstream: some ResponseHeadReading, clientVersion: HTTPVersion, requestID: String, keepAlive: Bool,
        isHeadRequest: Bool, rateLimit: RateLimiting.Verdict? = nil, cacheStatus: String? = nil, into buffer: inout ByteBuffer
    ) -> Framing {
        let code = upstream.status.code
        let mayHaveBody = !(code < 200 || code == 204 || code == 304)
        buffer.writeStaticString(clientVersion.minor == 0 && clientVersion.major == 1 ? "HTTP/1.0 " : "HTTP/1.1 ")
        buffer.writeDecimal(Int(code))
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(upstream.status.reasonPhrase)
        buffer.writeStaticString("\r\n")
        let hasLength = rewriteFields(
            of: upstream, dropLength: !mayHaveBody, requestID: requestID, rateLimit: rateLimit, cacheStatus: cacheStatus, into: &buffer)
        let framing: Framing
        if !mayHaveBody {
            framing = .none
        } else if hasLength {
            framing = isHeadRequest ? .none : .contentLength
        } else if clientVersion.major == 1 && clientVersion.minor >= 1 {
            // Said for HEAD too: it describes what the GET would have carried (RFC 9112 §6.1).
            buffer.writeStaticString("Transfer-Encoding: chunked\r\n")
            framing = isHeadRequest ? .none : .chunked
        } else {
            framing = isHeadRequest ? .none : .untilClose
        }
        if !keepAlive || framing == .untilClose {
            buffer.writeStaticString("Connection: close\r\n")
        }
        buffer.writeStaticString("\r\n")
        return framing
    }
}
