/// A route path such as `/campaigns/{id}/report`: literal segments and `{name}` placeholders
/// that match exactly one path segment.
public struct RoutePattern: Hashable, Sendable, CustomStringConvertible {
    public enum Segment: Hashable, Sendable {
        case literal(String)
        case parameter(String)
    }

    public let segments: [Segment]

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case mustStartWithSlash
        case emptySegment
        case invalidParameter(String)
        case duplicateParameter(String)
        case dotSegment
        case invalidLiteral(String)

        public var description: String {
            switch self {
            case .mustStartWithSlash: "must start with '/'"
            case .emptySegment: "must not contain empty segments ('//')"
            case .invalidParameter(let s): "invalid parameter segment '\(s)'"
            case .duplicateParameter(let s): "parameter '\(s)' appears twice"
            case .dotSegment: "must not contain '.' or '..' segments"
            case .invalidLiteral(let s): "segment '\(s)' must not contain spaces, control characters, '?', '#' or '\\'"
            }
        }
    }

    public init(_ text: String) throws(ParseError) {
        guard text.first == "/" else { throw .mustStartWithSlash }
        var segments: [Segment] = []
        var names = Set<String>()
        let parts = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        // "/" alone is the root pattern: no segments.
        if !(parts.count == 1 && parts[0].isEmpty) {
            for (index, part) in parts.enumerated() {
                if part.isEmpty {
                    // A single trailing slash is tolerated and ignored.
                    if index == parts.count - 1 && index > 0 { continue }
                    throw .emptySegment
                }
                if part == "." || part == ".." { throw .dotSegment }
                if part.first == "{" || part.last == "}" || part.contains("{") || part.contains("}") {
                    guard part.first == "{", part.last == "}", part.count > 2 else { throw .invalidParameter(String(part)) }
                    let name = String(part.dropFirst().dropLast())
                    guard name.allSatisfy({ $0.isASCIIAlphanumeric || $0 == "_" }) else {
                        throw .invalidParameter(String(part))
                    }
                    guard names.insert(name).inserted else { throw .duplicateParameter(name) }
                    segments.append(.parameter(name))
                } else {
                    // What a request path can carry after decoding: no spaces, controls or
                    // delimiters (a literal with them could never match).
                    guard !part.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: "\\") }) else {
                        throw .invalidLiteral(String(part))
                    }
                    segments.append(.literal(String(part)))
                }
            }
        }
        self.segments = segments
    }

    public var description: String {
        if segments.isEmpty { return "/" }
        return segments.map { segment -> String in
            switch segment {
            case .literal(let s): "/" + s
            case .parameter(let s): "/{" + s + "}"
            }
        }.joined()
    }
}
