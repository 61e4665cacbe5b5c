import NIOCore
import NIOHTTP1

/// Header-rewrite stage for the response relayed to the client: hop-by-hop fields dropped
/// (the client connection's own framing is the encoder's job), every other field relayed in
/// order (several `Set-Cookie` stay several), `X-Request-ID` set to the gateway's id.
public struct ResponseHeaders: Sendable {
    public init() {}

    public func build(
        from upstream: HTTPResponseHead, clientVersion: HTTPVersion, requestID: String, keepAlive: Bool,
        rateLimit: RateLimiting.Verdict? = nil, cacheStatus: String? = nil
    ) -> HTTPResponseHead {
        let listed = HopByHopHeaders.connectionListed(upstream.headers)
        var headers = HTTPHeaders()
        headers.reserveCapacity(upstream.headers.count + 2)
        for (name, value) in upstream.headers {
            switch HeaderRole.of(name) {
            case .hopByHop, .transferEncoding, .requestID:
                continue
            case .ordinary, .gatewayOwned, .forwardedFor:
                if listed.isEmpty || !HopByHopHeaders.isListed(name, in: listed) {
                    headers.add(name: name, value: value)
                }
            }
        }
        headers.add(name: "X-Request-ID", value: requestID)
        if let rateLimit {
            rateLimit.append(to: &headers)
        }
        if let cacheStatus { headers.add(name: "X-Cache", value: cacheStatus) }
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        }
        return HTTPResponseHead(version: clientVersion, status: upstream.status, headers: headers)
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
        from upstream: HTTPResponseHead, clientVersion: HTTPVersion, requestID: String, keepAlive: Bool,
        isHeadRequest: Bool, rateLimit: RateLimiting.Verdict? = nil, cacheStatus: String? = nil, into buffer: inout ByteBuffer
    ) -> Framing {
        let code = upstream.status.code
        let mayHaveBody = !(code < 200 || code == 204 || code == 304)
        buffer.writeStaticString(clientVersion.minor == 0 && clientVersion.major == 1 ? "HTTP/1.0 " : "HTTP/1.1 ")
        Self.writeDecimal(Int(code), into: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(upstream.status.reasonPhrase)
        buffer.writeStaticString("\r\n")
        /// Copies the relayed fields; false when a `Connection` field names others (start over
        /// with them known).
        func copyFields(listed: [String], firstPass: Bool, hasLength: inout Bool) -> Bool {
            for (name, value) in upstream.headers {
                switch HeaderRole.of(name) {
                case .hopByHop:
                    if firstPass && HopByHopHeaders.requiresRedo(name: name, value: value) { return false }
                case .transferEncoding, .requestID:
                    continue
                case .ordinary, .gatewayOwned, .forwardedFor:
                    if !listed.isEmpty && HopByHopHeaders.isListed(name, in: listed) { continue }
                    if name.utf8.count == 14 && name.equalsIgnoringASCIICase("content-length") {
                        if !mayHaveBody { continue }
                        hasLength = true
                    }
                    Self.writeField(name, value, into: &buffer)
                }
            }
            return true
        }
        var hasLength = false
        let fieldsStart = buffer.writerIndex
        if !copyFields(listed: [], firstPass: true, hasLength: &hasLength) {
            buffer.moveWriterIndex(to: fieldsStart)
            hasLength = false
            _ = copyFields(listed: HopByHopHeaders.connectionListed(upstream.headers), firstPass: false, hasLength: &hasLength)
        }
        Self.writeField("X-Request-ID", requestID, into: &buffer)
        if let rateLimit {
            buffer.writeStaticString("RateLimit-Limit: ")
            Self.writeDecimal(rateLimit.limit, into: &buffer)
            buffer.writeStaticString("\r\nRateLimit-Remaining: ")
            Self.writeDecimal(rateLimit.remaining, into: &buffer)
            buffer.writeStaticString("\r\nRateLimit-Reset: ")
            Self.writeDecimal(rateLimit.resetSeconds, into: &buffer)
            buffer.writeStaticString("\r\n")
            if !rateLimit.allowed {
                buffer.writeStaticString("Retry-After: ")
                Self.writeDecimal(rateLimit.retryAfterSeconds, into: &buffer)
                buffer.writeStaticString("\r\n")
            }
        }
        if let cacheStatus { Self.writeField("X-Cache", cacheStatus, into: &buffer) }
        var framing: Framing
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

    @inline(__always)
    static func writeField(_ name: String, _ value: String, into buffer: inout ByteBuffer) {
        buffer.writeString(name)
        buffer.writeStaticString(": ")
        buffer.writeString(value)
        buffer.writeStaticString("\r\n")
    }

    /// Writes a non-negative integer's decimal digits without making a `String`.
    static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        guard value > 0 else {
            buffer.writeInteger(UInt8(ascii: "0"))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        var v = UInt(value)
        withUnsafeMutableBytes(of: &digits) { bytes in
            while v > 0 {
                bytes[23 - count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                count += 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[(24 - count)...]))
        }
    }
}
