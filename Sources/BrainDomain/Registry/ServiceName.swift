/// A registered service's name: the first path segment of every request routed to it.
///
/// Names are DNS-label-like (`a-z`, `0-9`, `-`, 1–63 characters, starting with a letter) so
/// they are safe in a path, a log line and a metric label without escaping, and the gateway's
/// own first segments can never be taken.
public struct ServiceName: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let value: String

    /// First path segments the control plane owns.
    public static let reserved: Set<String> = [
        "api", "health", "metrics", "graphql", "ws", "docs", "dashboard", "openapi.json", ".well-known",
    ]

    public enum ValidationError: Error, Equatable, CustomStringConvertible {
        case empty, tooLong, invalidCharacters(String), reserved(String)

        public var description: String {
            switch self {
            case .empty: "must not be empty"
            case .tooLong: "must be at most 63 characters"
            case .invalidCharacters(let n): "'\(n)' must start with a lowercase letter and contain only a-z, 0-9 and '-'"
            case .reserved(let n): "'\(n)' is reserved for the gateway's own API"
            }
        }
    }

    public init(_ value: String) throws(ValidationError) {
        guard !value.isEmpty else { throw .empty }
        guard value.utf8.count <= 63 else { throw .tooLong }
        guard !Self.reserved.contains(value) else { throw .reserved(value) }
        var first = true
        for byte in value.utf8 {
            let isLower = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")
            let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            let ok = first ? isLower : (isLower || isDigit || byte == UInt8(ascii: "-"))
            guard ok else { throw .invalidCharacters(value) }
            first = false
        }
        guard value.utf8.last != UInt8(ascii: "-") else { throw .invalidCharacters(value) }
        self.value = value
    }

    /// A name known valid where it is written (the gateway's own defaults).
    private init(trusted value: String) { self.value = value }

    /// The service that runs AI agents unless the configuration names another.
    public static let aiAgents = ServiceName(trusted: "ai-agents")
    /// What the shared-state events are about: the replicas' Redis.
    public static let sharedState = ServiceName(trusted: "redis")

    public var description: String { value }
    public static func < (lhs: ServiceName, rhs: ServiceName) -> Bool { lhs.value < rhs.value }
}
