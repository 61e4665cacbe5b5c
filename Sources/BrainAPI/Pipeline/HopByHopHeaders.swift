import BrainInfrastructure
import NIOHTTP1

/// What a request or response header field means to the proxy, decided in one pass: only the
/// few known names of the field's length are compared, so an ordinary header costs one or two
/// byte comparisons instead of a scan of every special name.
enum HeaderRole: Equatable {
    /// Hop-by-hop (RFC 9110 §7.6.1): describes one connection, never passed on.
    case hopByHop
    /// `Transfer-Encoding`: hop-by-hop, but tells how the body is framed.
    case transferEncoding
    /// Set by the gateway itself on forwarded requests; a client's value is never passed on.
    case gatewayOwned
    /// `X-Forwarded-For`: the client's value is extended, not replaced.
    case forwardedFor
    /// `X-Request-ID`: gateway-owned upstream; replaced on responses.
    case requestID
    case ordinary

    static func of(_ name: String) -> HeaderRole {
        var name = name
        return name.withUTF8 { of(bytes: UnsafeRawBufferPointer($0)) }
    }

    static func of(bytes: UnsafeRawBufferPointer) -> HeaderRole {
        do {
            func equals(_ lower: StaticString) -> Bool { HeaderBytes.equal(bytes, lower) }
            switch bytes.count {
            case 2: return equals("te") ? .hopByHop : .ordinary
            case 4: return equals("host") ? .gatewayOwned : .ordinary
            case 6: return equals("expect") ? .gatewayOwned : .ordinary
            case 7: return equals("trailer") || equals("upgrade") ? .hopByHop : .ordinary
            case 10: return equals("connection") || equals("keep-alive") ? .hopByHop : .ordinary
            case 11: return equals("x-tenant-id") || equals("traceparent") ? .gatewayOwned : .ordinary
            case 12: return equals("x-request-id") ? .requestID : .ordinary
            case 13: return equals("x-brain-token") ? .gatewayOwned : .ordinary
            case 15: return equals("x-forwarded-for") ? .forwardedFor : .ordinary
            case 16:
                if equals("proxy-connection") { return .hopByHop }
                return equals("x-forwarded-host") ? .gatewayOwned : .ordinary
            case 17:
                if equals("transfer-encoding") { return .transferEncoding }
                return equals("x-forwarded-proto") ? .gatewayOwned : .ordinary
            case 18: return equals("proxy-authenticate") ? .hopByHop : .ordinary
            case 19: return equals("proxy-authorization") ? .hopByHop : .ordinary
            default: return .ordinary
            }
        }
    }
}

/// Field names and values compared as bytes, ASCII case ignored.
enum HeaderBytes {
    /// Whether `bytes` spell `lower` (a lowercase ASCII literal) in any case.
    static func equal(_ bytes: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        guard lower.utf8CodeUnitCount == bytes.count else { return false }
        let expected = UnsafeBufferPointer(start: lower.utf8Start, count: lower.utf8CodeUnitCount)
        for i in 0..<bytes.count {
            let b = bytes[i]
            if ((b >= 65 && b <= 90) ? b | 0x20 : b) != expected[i] { return false }
        }
        return true
    }

    /// Whether `bytes` spell `lowercased` (a lowercase string) in any case.
    static func equal(_ bytes: UnsafeRawBufferPointer, _ lowercased: String) -> Bool {
        let other = lowercased.utf8
        guard other.count == bytes.count else { return false }
        var i = 0
        for y in other {
            let b = bytes[i]
            if ((b >= 65 && b <= 90) ? b | 0x20 : b) != y { return false }
            i += 1
        }
        return true
    }
}

/// Field names a message lists in `Connection` are hop-by-hop too (RFC 9110 §7.6.1).
enum HopByHopHeaders {
    /// Lowercased names listed in the message's `Connection` fields (`close` and `keep-alive`
    /// excluded: they name no field). Empty, without allocating, in the usual case.
    static func connectionListed(_ headers: some HeaderFieldReading) -> [String] {
        var names: [String] = []
        for (name, value) in headers where name.utf8.count == 10 && name.equalsIgnoringASCIICase("connection") {
            // The usual values (`keep-alive`, `close`) are recognised without splitting or
            // lowercasing: this runs for every request and response.
            if !namesFields(value) { continue }
            for token in value.split(separator: ",") {
                let trimmed = token.trimmingSpaces.lowercased()
                if !trimmed.isEmpty && trimmed != "close" && trimmed != "keep-alive" { names.append(trimmed) }
            }
        }
        return names
    }

    /// Whether a `Connection` field with this value names other fields (anything beyond the
    /// usual `keep-alive` or `close`).
    static func namesFields(_ connectionValue: String) -> Bool {
        !(connectionValue.equalsIgnoringASCIICase("keep-alive") || connectionValue.equalsIgnoringASCIICase("close"))
    }

    /// True for a `Connection` field naming other fields (see `forEachField`).
    private static func requiresRedo(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Bool {
        HeaderBytes.equal(name, "connection") && !(HeaderBytes.equal(value, "keep-alive") || HeaderBytes.equal(value, "close"))
    }

    /// Visits every field of `headers` in order, with its role and whether a `Connection`
    /// field names it. The usual head is read once: a `Connection` field naming others is only
    /// known where it stands, so when one turns up `restart` takes back what was copied and the
    /// visit runs again with the names known.
    static func forEachField(
        of headers: some HeaderFieldReading, restart: () -> Void,
        _ visit: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, _ role: HeaderRole, _ listed: Bool) -> Void
    ) {
        func pass(listed: [String]?) -> Bool {
            var complete = true
            headers.forEachField { name, value in
                let role = HeaderRole.of(bytes: name)
                if listed == nil, role == .hopByHop, requiresRedo(name: name, value: value) {
                    complete = false
                    return false
                }
                visit(name, value, role, listed.map { !$0.isEmpty && isListed(name, in: $0) } ?? false)
                return true
            }
            return complete
        }
        if !pass(listed: nil) {
            restart()
            _ = pass(listed: connectionListed(headers))
        }
    }

    static func isListed(_ name: UnsafeRawBufferPointer, in listed: [String]) -> Bool {
        for candidate in listed where HeaderBytes.equal(name, candidate) { return true }
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

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }
}
