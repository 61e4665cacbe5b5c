import NIOHTTP1

/// The hop-by-hop rule of RFC 9110 §7.6.1: these fields, and every field named in
/// `Connection`, describe one connection and are never passed on by a proxy.
enum HopByHopHeaders {
    static let standard: [String] = [
        "connection", "proxy-connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ]

    /// Lowercased names listed in the message's `Connection` fields.
    static func connectionListed(_ headers: HTTPHeaders) -> [String] {
        var names: [String] = []
        for value in headers[canonicalForm: "connection"] {
            let token = value.lowercased()
            if token != "close" && token != "keep-alive" { names.append(token) }
        }
        return names
    }

    static func isHopByHop(_ name: String, extra: [String]) -> Bool {
        for candidate in standard where name.equalsIgnoringASCIICase(candidate) { return true }
        for candidate in extra where name.equalsIgnoringASCIICase(candidate) { return true }
        return false
    }
}

extension String {
    /// ASCII case-insensitive comparison without allocating lowercased copies.
    func equalsIgnoringASCIICase(_ lowercased: String) -> Bool {
        let a = self.utf8, b = lowercased.utf8
        guard a.count == b.count else { return false }
        var ib = b.makeIterator()
        for x in a {
            guard let y = ib.next() else { return false }
            let lx = (x >= 65 && x <= 90) ? x | 0x20 : x
            if lx != y { return false }
        }
        return true
    }
}
