import BrainDomain
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
}
