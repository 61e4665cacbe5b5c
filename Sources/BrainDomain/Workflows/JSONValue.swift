/// A JSON value as workflow expressions see it: step bodies, run input, caller claims.
///
/// The domain links no Foundation, so values arrive already decoded into this tree; numbers are
/// `Double`, as in JSON itself.
public indirect enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// `null`, `false`, `0` and `""` are false; everything else (arrays and objects too) is true.
    public var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let b): b
        case .number(let n): n != 0 && !n.isNaN
        case .string(let s): !s.isEmpty
        case .array, .object: true
        }
    }

    /// The member `key` of an object, or null.
    public subscript(key: String) -> JSONValue {
        if case .object(let members) = self { return members[key] ?? .null }
        return .null
    }

    /// The element at `index` of an array, or null.
    public subscript(index: Int) -> JSONValue {
        if case .array(let elements) = self, elements.indices.contains(index) { return elements[index] }
        return .null
    }

    /// The text a value takes inside an interpolated template: strings as they are, whole
    /// numbers without a fraction (`81`, not `81.0`), `true`/`false`, null as nothing, arrays and
    /// objects as compact JSON.
    public var text: String {
        switch self {
        case .null: ""
        case .string(let s): s
        default: json
        }
    }

    /// Compact JSON with sorted keys.
    public var json: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return Self.numberText(n)
        case .string(let s): return Self.quoted(s)
        case .array(let elements): return "[" + elements.map(\.json).joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.keys.sorted().map { Self.quoted($0) + ":" + (members[$0] ?? .null).json }.joined(separator: ",") + "}"
        }
    }

    static func numberText(_ n: Double) -> String {
        guard n.isFinite else { return "null" }
        if let whole = wholeNumber(n) { return String(whole) }
        return String(n)
    }

    /// `n` as an integer when it is one (and well within ±2^53). The truncating conversion is a
    /// single instruction; `rounded()` and `Int64(exactly:)` would need libm, which the domain
    /// does not link.
    public static func wholeNumber(_ n: Double) -> Int64? {
        guard n > -1e15, n < 1e15 else { return nil }
        let truncated = Int64(n)
        return Double(truncated) == n ? truncated : nil
    }

    static func quoted(_ s: String) -> String {
        var out = ""
        appendQuoted(s, to: &out)
        return out
    }

    /// Appends `s` as a JSON string literal (quotes, escapes, control characters as `\uXXXX`).
    public static func appendQuoted(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
