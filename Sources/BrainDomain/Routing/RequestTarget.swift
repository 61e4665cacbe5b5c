/// A client's request-target split into service, rest path and query, after the checks that
/// keep a forwarded request inside its service's `base_path` on its own instance.
///
/// Refused (400): anything but origin-form (`http://host/x`, `*`), dot segments whether plain,
/// percent-encoded or double-encoded, encoded `/` or `\` in the path, a literal `\`, malformed
/// percent-encoding, control characters and invalid UTF-8. Repeated slashes are merged, so
/// `//host/x` can never reach an upstream as a network-path reference. The path's original
/// encoding is forwarded unchanged; the query is forwarded byte for byte.
public struct RequestTarget: Sendable, Equatable {
    /// The first path segment (the service name), raw.
    public let service: Substring
    /// The path after the service segment: empty or starting with `/`, slashes merged.
    public let path: Substring
    /// `?` and everything after it, or empty.
    public let query: Substring

    public enum Rejection: Error, Equatable, Sendable, CustomStringConvertible {
        case notOriginForm
        case dotSegment
        case encodedSeparator
        case backslash
        case invalidPercentEncoding
        case controlCharacter
        case invalidUTF8

        public var description: String {
            switch self {
            case .notOriginForm: "the request target must be an absolute path ('/service/...')"
            case .dotSegment: "the path must not contain '.' or '..' segments, encoded or not"
            case .encodedSeparator: "the path must not contain an encoded '/' or '\\'"
            case .backslash: "the path must not contain '\\'"
            case .invalidPercentEncoding: "the path contains malformed percent-encoding"
            case .controlCharacter: "the path contains a control character"
            case .invalidUTF8: "the path does not decode to valid UTF-8"
            }
        }
    }

    public init(service: Substring, path: Substring, query: Substring) {
        self.service = service
        self.path = path
        self.query = query
    }

    /// Parses and checks `uri` as sent on the request line.
    public static func parse(_ uri: String) throws(Rejection) -> RequestTarget {
        let whole = Substring(uri)
        guard whole.utf8.first == UInt8(ascii: "/") else { throw .notOriginForm }
        let queryStart = whole.utf8.firstIndex(of: UInt8(ascii: "?")) ?? whole.endIndex
        let rawPath = whole[..<queryStart]
        let query = whole[queryStart...]
        for byte in query.utf8 where byte < 0x21 || byte == 0x7F {
            throw .controlCharacter
        }
        let hasAdjacentSlashes = try checkSegments(rawPath)
        let merged: Substring = hasAdjacentSlashes ? Substring(mergeSlashes(rawPath)) : rawPath
        // merged starts with "/"; the service is up to the next "/" (found on bytes, not Characters).
        let utf8 = merged.utf8
        let afterSlash = utf8.index(after: utf8.startIndex)
        let serviceEnd = utf8[afterSlash...].firstIndex(of: UInt8(ascii: "/")) ?? utf8.endIndex
        return RequestTarget(service: merged[afterSlash..<serviceEnd], path: merged[serviceEnd...], query: query)
    }

    /// The path to request from the instance: `base` joined with the rest path, never `//`.
    public func upstreamURI(base: BasePath) -> String {
        if base.prefix.isEmpty {
            return (path.isEmpty ? "/" : String(path)) + query
        }
        return base.prefix + path + query
    }

    private static func mergeSlashes(_ path: Substring) -> String {
        var out = String()
        out.reserveCapacity(path.utf8.count)
        var previousSlash = false
        for scalar in path.unicodeScalars {
            if scalar == "/" {
                if previousSlash { continue }
                previousSlash = true
            } else {
                previousSlash = false
            }
            out.unicodeScalars.append(scalar)
        }
        return out
    }

    /// Checks every segment in one pass over the bytes; returns whether `//` occurs.
    private static func checkSegments(_ path: Substring) throws(Rejection) -> Bool {
        let bytes = path.utf8
        var segmentStart = bytes.startIndex
        var index = bytes.startIndex
        var sawPercent = false
        var sawNonASCII = false
        var adjacentSlashes = false
        var previous: UInt8 = 0
        while true {
            let atEnd = index == bytes.endIndex
            let byte: UInt8 = atEnd ? UInt8(ascii: "/") : bytes[index]
            if byte == UInt8(ascii: "/") {
                if !atEnd && previous == UInt8(ascii: "/") { adjacentSlashes = true }
                try checkSegment(path[segmentStart..<index], hasPercent: sawPercent)
                sawPercent = false
                if atEnd { break }
                segmentStart = bytes.index(after: index)
            } else if byte == UInt8(ascii: "%") {
                sawPercent = true
            } else if byte == UInt8(ascii: "\\") {
                throw .backslash
            } else if byte < 0x21 || byte == 0x7F {
                throw .controlCharacter
            } else if byte >= 0x80 {
                sawNonASCII = true
            }
            previous = byte
            index = bytes.index(after: index)
        }
        // Raw non-ASCII bytes must at least be valid UTF-8 (an ASCII path always is).
        if sawNonASCII {
            var validator = UTF8Validator()
            if !validator.validate(bytes) { throw .invalidUTF8 }
        }
        return adjacentSlashes
    }

    private static func checkSegment(_ segment: Substring, hasPercent: Bool) throws(Rejection) {
        if !hasPercent {
            let utf8 = segment.utf8
            if utf8.count <= 2, !utf8.isEmpty, utf8.allSatisfy({ $0 == UInt8(ascii: ".") }) { throw .dotSegment }
            return
        }
        var decoded = try percentDecode(segment.utf8)
        try checkDecoded(decoded)
        // Double encoding (`%252e%252e`): a backend that decodes again would see a traversal.
        if decoded.contains(UInt8(ascii: "%")), let again = try? percentDecode(decoded) {
            decoded = again
            try checkDecoded(decoded)
        }
    }

    private static func checkDecoded(_ decoded: [UInt8]) throws(Rejection) {
        if decoded == [0x2E] || decoded == [0x2E, 0x2E] { throw .dotSegment }
        for byte in decoded {
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\\") { throw .encodedSeparator }
            if byte < 0x20 || byte == 0x7F { throw .controlCharacter }
        }
        var validator = UTF8Validator()
        if !validator.validate(decoded) { throw .invalidUTF8 }
    }

    static func percentDecode<Bytes: Collection>(_ bytes: Bytes) throws(Rejection) -> [UInt8] where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    throw .invalidPercentEncoding
                }
                out.append(high << 4 | low)
            } else {
                out.append(byte)
            }
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Checks that a byte sequence is well-formed UTF-8 (no overlongs, no surrogates).
struct UTF8Validator {
    mutating func validate<Bytes: Sequence>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        var decoder = Unicode.UTF8()
        var iterator = bytes.makeIterator()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}

