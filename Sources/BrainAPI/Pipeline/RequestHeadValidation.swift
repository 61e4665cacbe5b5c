import BrainInfrastructure
import NIOHTTP1

/// Head checks the HTTP/1.1 parser leaves to the server (RFC 9112 §3.2): an HTTP/1.1 request
/// carries exactly one `Host`. Two differing hosts are a classic way to make a gateway and a
/// backend disagree about where a request goes.
public struct RequestHeadValidation: Sendable {
    public init() {}

    public func check(_ head: some RequestHeadReading) -> GatewayError? {
        let hosts = head.headers.count(named: "host")
        if hosts > 1 { return .badRequest("the request has more than one Host header") }
        if hosts == 0 && head.version >= .http1_1 { return .badRequest("the request has no Host header") }
        return nil
    }
}

extension HTTPVersion: @retroactive Comparable {
    public static func < (lhs: HTTPVersion, rhs: HTTPVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }
}
