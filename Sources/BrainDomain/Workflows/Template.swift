/// A string in a workflow definition that may carry expressions in `{{ }}`, parsed once.
///
/// A string that is exactly one `{{ e }}` (spaces around allowed) takes e's JSON value, so
/// `"{{ steps.score.body.score }}"` stays a number and `"{{ input }}"` an object; otherwise each
/// `{{ e }}` is replaced by its text (`JSONValue.text`) and the result is a string.
public enum Template: Sendable, Equatable {
    case constant(String)
    case whole(Expression)
    case interpolated([Part])

    public enum Part: Sendable, Equatable {
        case text(String)
        case expression(Expression)
    }

    /// At most this many expressions in one string.
    public static let maxExpressions = 64

    public static func parse(_ text: String, limits: Expression.Limits = .default) throws(Expression.ParseError) -> Template {
        let bytes = Array(text.utf8)
        var parts: [Part] = []
        var literal: [UInt8] = []
        var i = 0
        var expressions = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "{"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "{") {
                guard let close = Self.closing(bytes, from: i + 2) else {
                    throw Expression.ParseError(reason: "'{{' without a closing '}}'", offset: i)
                }
                expressions += 1
                guard expressions <= maxExpressions else {
                    throw Expression.ParseError(reason: "more than \(maxExpressions) expressions in one text", offset: i)
                }
                if !literal.isEmpty { parts.append(.text(String(decoding: literal, as: UTF8.self))) }
                literal.removeAll()
                let source = String(decoding: bytes[(i + 2)..<close], as: UTF8.self)
                do {
                    parts.append(.expression(try Expression.parse(source, limits: limits)))
                } catch {
                    throw Expression.ParseError(reason: error.reason, offset: error.offset + i + 2)
                }
                i = close + 2
            } else {
                literal.append(bytes[i])
                i += 1
            }
        }
        if !literal.isEmpty { parts.append(.text(String(decoding: literal, as: UTF8.self))) }
        switch parts.count {
        case 0: return .constant("")
        case 1:
            switch parts[0] {
            case .text(let t): return .constant(t)
            case .expression(let e): return .whole(e)
            }
        default:
            // Spaces around a single expression do not make it text.
            let meaningful = parts.filter { if case .text(let t) = $0 { return !t.allSatisfy(\.isWhitespace) }; return true }
            if meaningful.count == 1, case .expression(let e) = meaningful[0] { return .whole(e) }
            return .interpolated(parts)
        }
    }

    /// The `}}` ending an expression that starts at `from`, skipping quoted text (which may
    /// contain braces).
    private static func closing(_ bytes: [UInt8], from start: Int) -> Int? {
        var i = start
        var quote: UInt8?
        while i + 1 < bytes.count {
            let b = bytes[i]
            if let q = quote {
                if b == UInt8(ascii: "\\") { i += 1 } else if b == q { quote = nil }
            } else if b == UInt8(ascii: "'") || b == UInt8(ascii: "\"") {
                quote = b
            } else if b == UInt8(ascii: "}"), bytes[i + 1] == UInt8(ascii: "}") {
                return i
            }
            i += 1
        }
        return nil
    }

    public func evaluate(in scope: JSONValue) -> JSONValue {
        switch self {
        case .constant(let text): return .string(text)
        case .whole(let expression): return expression.evaluate(in: scope)
        case .interpolated(let parts):
            var out = ""
            for part in parts {
                switch part {
                case .text(let t): out += t
                case .expression(let e): out += e.evaluate(in: scope).text
                }
            }
            return .string(out)
        }
    }

    /// The template as a request path: each expression's text is percent-encoded as one path
    /// segment, so a value read from a body (`../admin`, `a?b=c`) cannot change which resource
    /// is addressed. The literal parts are the definition's own and stay as written.
    public func evaluatePath(in scope: JSONValue) -> String {
        switch self {
        case .constant(let text): return text
        case .whole(let expression): return Self.encodeSegment(expression.evaluate(in: scope).text)
        case .interpolated(let parts):
            var out = ""
            for part in parts {
                switch part {
                case .text(let t): out += t
                case .expression(let e): out += Self.encodeSegment(e.evaluate(in: scope).text)
                }
            }
            return out
        }
    }

    /// RFC 3986 unreserved characters stay; every other byte becomes `%XX`.
    static func encodeSegment(_ text: String) -> String {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for b in text.utf8 {
            let unreserved = (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
                || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "~")
            // A whole segment of dots would still climb the path.
            if unreserved && !(b == UInt8(ascii: ".") && text.utf8.allSatisfy({ $0 == UInt8(ascii: ".") })) {
                out.append(b)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var referencedSteps: Set<String> {
        switch self {
        case .constant: return []
        case .whole(let e): return e.referencedSteps
        case .interpolated(let parts):
            return parts.reduce(into: Set<String>()) { set, part in
                if case .expression(let e) = part { set.formUnion(e.referencedSteps) }
            }
        }
    }
}
