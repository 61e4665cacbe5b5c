import BrainDomain
import BrainInfrastructure
import NIOCore
import NIOHTTP1

/// An error the gateway answers itself, with the gateway's JSON error body
/// `{"error": "<code>", "detail": "<human text>", "request_id": "…"}`.
public struct GatewayError: Error, Sendable, Equatable {
    public let status: HTTPResponseStatus
    public let code: String
    public let detail: String

    public init(status: HTTPResponseStatus, code: String, detail: String) {
        self.status = status
        self.code = code
        self.detail = detail
    }

    public static func badRequest(_ detail: String) -> Self { .init(status: .badRequest, code: "bad_request", detail: detail) }
    public static func unknownService(_ name: Substring) -> Self {
        .init(status: .notFound, code: "service_not_found", detail: "no service named '\(JSONText.truncate(name))' is registered")
    }
    public static let unknownRoute = GatewayError(status: .notFound, code: "route_not_found", detail: "the service has no route for this method and path")
    public static func bodyTooLarge(limit: Int64) -> Self {
        .init(status: .payloadTooLarge, code: "payload_too_large", detail: "the request body exceeds \(limit) bytes")
    }
    public static let headersTooLarge = GatewayError(status: .requestHeaderFieldsTooLarge, code: "headers_too_large", detail: "the request headers exceed the gateway's limits")
    public static func badGateway(_ detail: String) -> Self { .init(status: .badGateway, code: "bad_gateway", detail: detail) }
    public static let gatewayTimeout = GatewayError(status: .gatewayTimeout, code: "gateway_timeout", detail: "the upstream service did not answer in time")

    /// What the client is told when the upstream exchange failed before any response.
    public static func upstream(_ failure: UpstreamFailure) -> Self {
        switch failure {
        case .timedOut: .gatewayTimeout
        case .connectFailed(let why): .badGateway("could not connect to the upstream service: \(why)")
        case .connectionClosed: .badGateway("the upstream service closed the connection before the response ended")
        case .invalidResponse: .badGateway("the upstream service sent an invalid response")
        }
    }
    public static let noInstance = GatewayError(status: .serviceUnavailable, code: "service_unavailable", detail: "no instance of the service is available")
    public static let circuitOpen = GatewayError(
        status: .serviceUnavailable, code: "service_unavailable", detail: "every instance of the service is out of rotation (failed health checks or open circuit breakers); retry later")
    public static let rateLimited = GatewayError(
        status: .tooManyRequests, code: "rate_limited", detail: "the rate limit for this tenant and service is exhausted; retry later")

    /// The JSON body for this error.
    public func body(requestID: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var text = "{\"error\":"
        JSONText.appendString(code, to: &text)
        text += ",\"detail\":"
        JSONText.appendString(detail, to: &text)
        text += ",\"request_id\":"
        JSONText.appendString(requestID, to: &text)
        text += "}"
        return allocator.buffer(string: text)
    }
}

/// Minimal JSON string escaping for the bodies the data plane writes by hand.
enum JSONText {
    static func appendString(_ value: String, to out: inout String) {
        JSONValue.appendQuoted(value, to: &out)
    }

    /// Client-supplied text echoed in an error is cut short so a huge path cannot bloat a reply.
    static func truncate(_ text: Substring, to limit: Int = 64) -> String {
        text.count <= limit ? String(text) : String(text.prefix(limit)) + "…"
    }
}
