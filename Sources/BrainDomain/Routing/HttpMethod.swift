/// An HTTP request method as the gateway reasons about it.
///
/// Standard methods are cases so route tables compare them without string work; anything else
/// a client sends is kept verbatim in `.other` so the proxy can still forward it.
public enum HttpMethod: Hashable, Sendable, CustomStringConvertible {
    case get, head, post, put, delete, patch, options, trace, connect
    case other(String)

    /// Parses a method token; method names are case-sensitive (RFC 9110 §9.1).
    public init(_ token: String) {
        switch token {
        case "GET": self = .get
        case "HEAD": self = .head
        case "POST": self = .post
        case "PUT": self = .put
        case "DELETE": self = .delete
        case "PATCH": self = .patch
        case "OPTIONS": self = .options
        case "TRACE": self = .trace
        case "CONNECT": self = .connect
        default: self = .other(token)
        }
    }

    public var description: String {
        switch self {
        case .get: "GET"
        case .head: "HEAD"
        case .post: "POST"
        case .put: "PUT"
        case .delete: "DELETE"
        case .patch: "PATCH"
        case .options: "OPTIONS"
        case .trace: "TRACE"
        case .connect: "CONNECT"
        case .other(let token): token
        }
    }

    /// The methods a route may name, in the order errors and documents list them.
    public static let routableNames = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    public static let routable: Set<HttpMethod> = [.get, .head, .post, .put, .delete, .patch, .options]

    /// Methods a retry may repeat without changing the outcome (RFC 9110 §9.2.2), as the
    /// gateway's retry contract lists them. POST and PATCH are retried only when the client sends `Idempotency-Key`.
    public var isRetryable: Bool {
        switch self {
        case .get, .head, .options, .put, .delete: true
        default: false
        }
    }
}
