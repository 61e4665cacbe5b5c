/// One network endpoint serving a service: `http://host:port` or `https://host:port`.
///
/// Parsed by hand (no Foundation `URL`) so the domain stays free of platform types, and so the
/// rules are exactly ours: no user info, no path, no query, an explicit or default port.
public struct UpstreamInstance: Hashable, Sendable, CustomStringConvertible {
    public enum Scheme: String, Sendable { case http, https }

    public let scheme: Scheme
    public let host: String
    public let port: Int

    public struct InvalidInstance: Error, CustomStringConvertible {
        public let text: String
        public let reason: String
        public var description: String { "'\(text)' \(reason)" }
    }

    public init(scheme: Scheme, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    public init(url text: String) throws(InvalidInstance) {
        let scheme: Scheme
        var rest: Substring
        if text.hasPrefix("http://") {
            scheme = .http
            rest = text.dropFirst(7)
        } else if text.hasPrefix("https://") {
            scheme = .https
            rest = text.dropFirst(8)
        } else {
            throw InvalidInstance(text: text, reason: "must start with http:// or https://")
        }
        if rest.last == "/" { rest = rest.dropLast() }
        guard !rest.isEmpty else { throw InvalidInstance(text: text, reason: "has no host") }
        guard !rest.contains(where: { $0 == "/" || $0 == "?" || $0 == "#" || $0 == "@" || $0 == " " || $0 == "\\" }) else {
            throw InvalidInstance(text: text, reason: "must be scheme://host[:port] with no path, query or user info (use base_path)")
        }
        var host = rest
        var port = scheme == .https ? 443 : 80
        if rest.first == "[" {
            // IPv6 literal: [::1]:8080
            guard let close = rest.firstIndex(of: "]") else { throw InvalidInstance(text: text, reason: "has an unterminated IPv6 literal") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":", let p = Int(after.dropFirst()) else { throw InvalidInstance(text: text, reason: "has an invalid port") }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let p = Int(rest[rest.index(after: colon)...]) else { throw InvalidInstance(text: text, reason: "has an invalid port") }
            port = p
        }
        guard (1...65535).contains(port) else { throw InvalidInstance(text: text, reason: "has a port outside 1-65535") }
        guard !host.isEmpty else { throw InvalidInstance(text: text, reason: "has no host") }
        self.init(scheme: scheme, host: String(host), port: port)
    }

    /// The value of the `Host` header sent upstream.
    public var authority: String {
        let h = host.contains(":") ? "[\(host)]" : host
        let defaultPort = scheme == .https ? 443 : 80
        return port == defaultPort ? h : "\(h):\(port)"
    }

    public var description: String { "\(scheme.rawValue)://\(authority)" }
}
