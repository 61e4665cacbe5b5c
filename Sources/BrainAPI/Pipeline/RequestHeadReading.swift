import BrainInfrastructure
import NIOHTTP1

/// What the stages read of a request's header fields. The data plane's `RequestHead` answers
/// from spans into the read buffer (no allocation per field, only for values a stage takes);
/// NIO's `HTTPHeaders` answers for heads built in memory (workflow steps, WebSocket
/// handshakes, tests). Stages are generic over it, so each is written once for both.
public protocol HeaderFieldReading: RequestFieldValues, Sequence where Element == (name: String, value: String) {
    /// The first value of a field named `name` (any case).
    func first(name: String) -> String?
    func contains(name: String) -> Bool
    /// Comma-separated items of every field named `name`, trimmed (RFC 9110 §5.6.1).
    subscript(canonicalForm name: String) -> [Substring] { get }
}

extension HTTPHeaders: HeaderFieldReading {}

/// A request head as the stages read it.
public protocol RequestHeadReading {
    associatedtype Fields: HeaderFieldReading
    var method: HTTPMethod { get }
    var uri: String { get }
    var version: HTTPVersion { get }
    var isKeepAlive: Bool { get }
    var headers: Fields { get }
}

extension HTTPRequestHead: RequestHeadReading {}
