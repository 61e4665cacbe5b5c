import NIOHTTP1

/// A request's header values by name, as the cache reads them to tell `Vary` variants apart.
/// NIO's `HTTPHeaders` is one; the data plane's heads (spans into the read buffer) are another.
public protocol RequestFieldValues: Sendable {
    /// Every value of the fields named `name` (any case), in order, each as sent.
    subscript(name: String) -> [String] { get }
}

extension HTTPHeaders: RequestFieldValues {}
