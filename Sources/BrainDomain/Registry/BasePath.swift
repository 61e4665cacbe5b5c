/// The path prefix a service's requests are forwarded under (`/api/v1/agents`, or `/`).
///
/// Stored without a trailing slash (the root is stored as the empty string) so that joining it
/// with a request's rest path never produces `//`.
public struct BasePath: Hashable, Sendable, CustomStringConvertible {
    /// `""` for the root, otherwise `/a/b` with no trailing slash.
    public let prefix: String

    public struct InvalidBasePath: Error, CustomStringConvertible {
        public let text: String
        public let reason: String
        public var description: String { "'\(text)' \(reason)" }
    }

    public init(_ text: String) throws(InvalidBasePath) {
        guard text.first == "/" else { throw InvalidBasePath(text: text, reason: "must start with '/'") }
        for segment in text.split(separator: "/") {
            if segment == "." || segment == ".." { throw InvalidBasePath(text: text, reason: "must not contain dot segments") }
        }
        guard !text.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: "\\") }) else {
            throw InvalidBasePath(text: text, reason: "must not contain spaces, control characters, '?', '#' or '\\'")
        }
        guard !text.contains("//") else { throw InvalidBasePath(text: text, reason: "must not contain '//'") }
        var p = Substring(text)
        while p.last == "/" { p = p.dropLast() }
        self.prefix = String(p)
    }

    public var description: String { prefix.isEmpty ? "/" : prefix }
}

extension BasePath {
    /// The instance's root (`/`).
    public static let root = BasePath(validatedPrefix: "")

    private init(validatedPrefix: String) { self.prefix = validatedPrefix }
}
