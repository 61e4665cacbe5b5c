import NIOHTTP1

/// A request's header values by name, as the cache reads them to tell `Vary` variants apart.
/// NIO's `HTTPHeaders` is one; the data plane's heads (spans into the read buffer) are another.
public protocol RequestFieldValues: Sendable {
    /// Every value of the fields named `name` (any case), in order, each as sent.
    subscript(name: String) -> [String] { get }
}

extension HTTPHeaders: RequestFieldValues {}

/// What the proxy's stages read of a head's fields. `HeadFields` answers from spans into the
/// read buffer (no allocation per field, only for values a stage takes); NIO's `HTTPHeaders`
/// answers for heads built in memory (workflow steps, WebSocket handshakes, tests). Stages
/// are generic over it, so each is written once for both.
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
        let lowercased = name.lowercased()
        var count = 0
        for field in self where field.name.utf8.count == lowercased.utf8.count && field.name.lowercased() == lowercased { count += 1 }
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

