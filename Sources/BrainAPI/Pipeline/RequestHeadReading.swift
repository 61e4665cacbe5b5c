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
    /// How many fields are named `name`.
    func count(named name: String) -> Int
    /// Whether the first field named `name` has exactly `value` — without making a string of
    /// the field's (a remembered token is compared this way on every request).
    func first(name: String, is value: String) -> Bool
    /// Every field's name and value, as bytes, in order, while `body` returns true.
    func forEachField(_ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool)
}

extension HTTPHeaders: HeaderFieldReading {
    public func count(named name: String) -> Int {
        var count = 0
        for field in self where field.name.utf8.count == name.utf8.count && field.name.equalsIgnoringASCIICase(name.lowercased()) { count += 1 }
        return count
    }

    public func first(name: String, is value: String) -> Bool { first(name: name) == value }

    public func forEachField(_ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool) {
        for (name, value) in self {
            var name = name, value = value
            let goOn = name.withUTF8 { n in value.withUTF8 { v in body(UnsafeRawBufferPointer(n), UnsafeRawBufferPointer(v)) } }
            if !goOn { return }
        }
    }
}

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
