import BrainInfrastructure
import NIOHTTP1

/// Body-size stage: refuses a declared `Content-Length` over the limit before any byte is
/// forwarded, and a streamed body as soon as it passes the limit (413).
public struct BodyLimit: Sendable {
    public let maxBytes: Int64

    public init(maxBytes: Int64) {
        self.maxBytes = maxBytes
    }

    /// Checks the head; nil when the request may proceed.
    public func check(_ headers: some HeaderFieldReading) -> GatewayError? {
        if let declared = headers.first(name: "content-length"), let length = Int64(declared), length > maxBytes {
            return .bodyTooLarge(limit: maxBytes)
        }
        return nil
    }

    /// Checks the running total of streamed bytes.
    public func allows(received: Int64) -> Bool { received <= maxBytes }
}
