import BrainInfrastructure
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
        from client: some RequestHeadReading, uri: String, instance: UpstreamInstance, requestID: String, clientAddress: String?,
        tenant: TenantID? = nil, proofToken: String? = nil, traceparent: String? = nil
    ) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(16)
        _ = rewriteFields(
            of: client, instance: instance, requestID: requestID, clientAddress: clientAddress, tenant: tenant, proofToken: proofToken,
            traceparent: traceparent, extra: [], into: &headers)
        return HTTPRequestHead(version: .http1_1, method: client.method, uri: uri, headers: headers)
    }

    /// The same rewrite as `build`, written straight into the bytes of the upstream request
    /// head (no `HTTPHeaders` copy, no trip through NIO's request encoder). `extra` fields
    /// (cache validators) go last. Returns whether the body must be sent chunked.
    public func write(
        from client: some RequestHeadReading, uri: String, instance: UpstreamInstance, requestID: String, clientAddress: String?,
        tenant: TenantID? = nil, proofToken: String? = nil, traceparent: String? = nil, extra: [(String, String)] = [],
        into buffer: inout ByteBuffer
    ) -> Bool {
        buffer.writeString(client.method.rawValue)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(uri)
        buffer.writeStaticString(" HTTP/1.1\r\n")
        let chunked = rewriteFields(
            of: client, instance: instance, requestID: requestID, clientAddress: clientAddress, tenant: tenant, proofToken: proofToken,
            traceparent: traceparent, extra: extra, into: &buffer)
        buffer.writeStaticString("\r\n")
        return chunked
    }

    /// The rewrite both outputs share. Returns whether the body is chunked (the decoder only
    /// accepts a final `chunked` coding; the body stays framed that way).
    private func rewriteFields<Sink: HeaderFieldSink>(
        of client: some RequestHeadReading, instance: UpstreamInstance, requestID: String, clientAddress: String?, tenant: TenantID?,
        proofToken: String?, traceparent: String?, extra: [(String, String)], into sink: inout Sink
    ) -> Bool {
        var forwardedFor: String?
        var host: String?
        var isChunked = false
        let start = sink.fieldMark
        HopByHopHeaders.forEachField(
            of: client.headers, restart: { sink.rewind(to: start); (forwardedFor, host, isChunked) = (nil, nil, false) }
        ) { name, value, role, listed in
            switch role {
            case .ordinary:
                if !listed { sink.addField(name: name, value: value) }
            case .transferEncoding:
                isChunked = true
            case .forwardedFor:
                let value = String(decoding: value, as: UTF8.self)
                forwardedFor = forwardedFor.map { $0 + ", " + value } ?? value
            case .gatewayOwned:
                if host == nil, name.count == 4 { host = String(decoding: value, as: UTF8.self) }
            case .hopByHop, .requestID:
                return
            }
        }
        sink.addField("Host", instance.authority)
        if let clientAddress {
            sink.addField("X-Forwarded-For", forwardedFor.map { $0 + ", " + clientAddress } ?? clientAddress)
        } else if let forwardedFor {
            sink.addField("X-Forwarded-For", forwardedFor)
        }
        sink.addField("X-Forwarded-Proto", forwardedProto)
        if let host { sink.addField("X-Forwarded-Host", host) }
        sink.addField("X-Request-ID", requestID)
        // The tenant the gateway fixed, never the client's header as sent.
        if let tenant { sink.addField("X-Tenant-ID", tenant.value) }
        if let proofToken { sink.addField("X-Brain-Token", proofToken) }
        if let traceparent { sink.addField("traceparent", traceparent) }
        for (name, value) in extra { sink.addField(name, value) }
        if isChunked { sink.addField("Transfer-Encoding", "chunked") }
        return isChunked
    }
}
