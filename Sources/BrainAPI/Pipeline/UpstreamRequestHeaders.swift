import BrainDomain
import NIOCore
import NIOHTTP1

/// Header-rewrite stage for the request sent upstream.
///
/// Drops hop-by-hop fields (and those named in `Connection`), every header the gateway owns
/// (`Host`, `X-Request-ID`, `X-Tenant-ID`, `X-Brain-Token`, `X-Forwarded-Proto/-Host`, `Expect`)
/// and `traceparent`) so a client can never choose their values, then sets them: `Host` is the instance's
/// authority, `X-Forwarded-For` gets the client's address appended, `X-Forwarded-Proto` and
/// `X-Forwarded-Host` describe the client's request. Chunked request bodies stay chunked.
public struct UpstreamRequestHeaders: Sendable {
    public let forwardedProto: String

    public init(forwardedProto: String = "http") {
        self.forwardedProto = forwardedProto
    }

    public func build(
        from client: HTTPRequestHead, uri: String, instance: UpstreamInstance, requestID: String, clientAddress: String?,
        tenant: TenantID? = nil, proofToken: String? = nil, traceparent: String? = nil
    ) -> HTTPRequestHead {
        let listed = HopByHopHeaders.connectionListed(client.headers)
        var headers = HTTPHeaders()
        headers.reserveCapacity(client.headers.count + 6)
        var forwardedFor: String?
        var isChunked = false
        for (name, value) in client.headers {
            switch HeaderRole.of(name) {
            case .ordinary:
                if listed.isEmpty || !HopByHopHeaders.isListed(name, in: listed) {
                    headers.add(name: name, value: value)
                }
            case .transferEncoding:
                // The decoder only accepts a final `chunked` coding; keep the body framed that way.
                isChunked = true
            case .forwardedFor:
                forwardedFor = forwardedFor.map { $0 + ", " + value } ?? value
            case .hopByHop, .gatewayOwned, .requestID:
                continue
            }
        }
        headers.add(name: "Host", value: instance.authority)
        if let clientAddress {
            headers.add(name: "X-Forwarded-For", value: forwardedFor.map { $0 + ", " + clientAddress } ?? clientAddress)
        } else if let forwardedFor {
            headers.add(name: "X-Forwarded-For", value: forwardedFor)
        }
        headers.add(name: "X-Forwarded-Proto", value: forwardedProto)
        if let host = client.headers.first(name: "host") {
            headers.add(name: "X-Forwarded-Host", value: host)
        }
        headers.add(name: "X-Request-ID", value: requestID)
        if let tenant {
            // The tenant the gateway fixed, never the client's header as sent.
            headers.add(name: "X-Tenant-ID", value: tenant.value)
        }
        if let proofToken {
            headers.add(name: "X-Brain-Token", value: proofToken)
        }
        if let traceparent {
            headers.add(name: "traceparent", value: traceparent)
        }
        if isChunked {
            headers.add(name: "Transfer-Encoding", value: "chunked")
        }
        return HTTPRequestHead(version: .http1_1, method: client.method, uri: uri, headers: headers)
    }

    /// The same rewrite as `build`, written straight into the bytes of the upstream request
    /// head (no `HTTPHeaders` copy, no trip through NIO's request encoder). `extra` fields
    /// (cache validators) go last. Returns whether the body must be sent chunked.
    public func write(
        from client: HTTPRequestHead, uri: String, instance: UpstreamInstance, requestID: String, clientAddress: String?,
        tenant: TenantID? = nil, proofToken: String? = nil, traceparent: String? = nil, extra: [(String, String)] = [],
        into buffer: inout ByteBuffer
    ) -> Bool {
        buffer.writeString(client.method.rawValue)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(uri)
        buffer.writeStaticString(" HTTP/1.1\r\n")
        var forwardedFor: String?
        var host: String?
        var isChunked = false
        /// Copies the ordinary fields and notes the others; false when a `Connection` field
        /// names fields (start over with them known).
        func copyFields(listed: [String], firstPass: Bool) -> Bool {
            for (name, value) in client.headers {
                switch HeaderRole.of(name) {
                case .ordinary:
                    if listed.isEmpty || !HopByHopHeaders.isListed(name, in: listed) {
                        ResponseHeaders.writeField(name, value, into: &buffer)
                    }
                case .transferEncoding:
                    isChunked = true
                case .forwardedFor:
                    forwardedFor = forwardedFor.map { $0 + ", " + value } ?? value
                case .gatewayOwned:
                    if host == nil, name.utf8.count == 4 { host = value }
                case .hopByHop:
                    if firstPass && HopByHopHeaders.requiresRedo(name: name, value: value) { return false }
                case .requestID:
                    continue
                }
            }
            return true
        }
        let fieldsStart = buffer.writerIndex
        if !copyFields(listed: [], firstPass: true) {
            buffer.moveWriterIndex(to: fieldsStart)
            (forwardedFor, host, isChunked) = (nil, nil, false)
            _ = copyFields(listed: HopByHopHeaders.connectionListed(client.headers), firstPass: false)
        }
        ResponseHeaders.writeField("Host", instance.authority, into: &buffer)
        if let clientAddress {
            buffer.writeStaticString("X-Forwarded-For: ")
            if let forwardedFor {
                buffer.writeString(forwardedFor)
                buffer.writeStaticString(", ")
            }
            buffer.writeString(clientAddress)
            buffer.writeStaticString("\r\n")
        } else if let forwardedFor {
            ResponseHeaders.writeField("X-Forwarded-For", forwardedFor, into: &buffer)
        }
        ResponseHeaders.writeField("X-Forwarded-Proto", forwardedProto, into: &buffer)
        if let host { ResponseHeaders.writeField("X-Forwarded-Host", host, into: &buffer) }
        ResponseHeaders.writeField("X-Request-ID", requestID, into: &buffer)
        if let tenant { ResponseHeaders.writeField("X-Tenant-ID", tenant.value, into: &buffer) }
        if let proofToken { ResponseHeaders.writeField("X-Brain-Token", proofToken, into: &buffer) }
        if let traceparent { ResponseHeaders.writeField("traceparent", traceparent, into: &buffer) }
        for (name, value) in extra { ResponseHeaders.writeField(name, value, into: &buffer) }
        if isChunked { buffer.writeStaticString("Transfer-Encoding: chunked\r\n") }
        buffer.writeStaticString("\r\n")
        return isChunked
    }
}
