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
}
