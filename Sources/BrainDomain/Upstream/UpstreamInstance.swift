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

    /// A port as written in a URL: decimal digits, no sign, no leading zero.
    private static func port(_ text: Substring) -> Int? {
        guard let first = text.first, first != "0", text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    /// A DNS name or IPv4 address: ASCII letters, digits, '.' and '-', starting and ending with
    /// a letter or digit — no control characters or anything else that could smuggle a second
    /// meaning into a Host header or a log line.
    private static func isHostName(_ host: Substring) -> Bool {
        guard let first = host.first, let last = host.last, first.isASCIIAlphanumeric, last.isASCIIAlphanumeric else { return false }
        return host.allSatisfy { $0.isASCIIAlphanumeric || $0 == "." || $0 == "-" }
    }

    /// An IPv6 address in hexadecimal groups (RFC 4291 §2.2 forms 1 and 2; no embedded IPv4,
    /// no zone): eight groups, or fewer with one `::`.
    static func isIPv6Address(_ text: Substring) -> Bool {
        func groups(_ part: Substring) -> Int? {
            guard !part.isEmpty else { return 0 }
            var count = 0
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), group.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
                count += 1
            }
            return count
        }
        let chars = Array(text)
        var doubleColon: Int?
        for i in chars.indices.dropLast() where chars[i] == ":" && chars[i + 1] == ":" {
            guard doubleColon == nil else { return false }
            doubleColon = i
        }
        guard let at = doubleColon else { return groups(text) == 8 }
        guard let left = groups(Substring(String(chars[..<at]))), let right = groups(Substring(String(chars[(at + 2)...]))) else { return false }
        return left + right <= 7
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
            guard let p = Self.port(rest[rest.index(after: colon)...]) else { throw InvalidInstance(text: text, reason: "has an invalid port") }
            port = p
        }
        guard (1...65535).contains(port) else { throw InvalidInstance(text: text, reason: "has a port outside 1-65535") }
        guard !host.isEmpty else { throw InvalidInstance(text: text, reason: "has no host") }
        guard rest.first == "[" ? Self.isIPv6Address(host) : Self.isHostName(host) else {
            throw InvalidInstance(text: text, reason: "has an invalid host (letters, digits, '.' and '-', or an [IPv6] literal)")
        }
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

extension Character {
    var isASCIIAlphanumeric: Bool { isASCII && (isLetter || isNumber) }
}
