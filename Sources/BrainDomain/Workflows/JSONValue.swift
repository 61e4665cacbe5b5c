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

    /// Compact JSON with sorted keys (deterministic: equal values give equal text).
    public var json: String {
        var writer = JSONWriter(capacity: 128)
        writer.write(self)
        return writer.text
    }

    /// Appends the compact JSON (see `JSONWriter`, which writers of larger documents use
    /// directly).
    /// - Parameter sortedKeys: false where only a reader will see it, which spares sorting
    ///   every object's keys.
    public func appendJSON(to out: inout String, sortedKeys: Bool = true) {
        var writer = JSONWriter()
        writer.write(self, sortedKeys: sortedKeys)
        out += writer.text
    }

    static func numberText(_ n: Double) -> String {
        var writer = JSONWriter(capacity: 24)
        writer.number(n)
        return writer.text
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
        var writer = JSONWriter(capacity: s.utf8.count + 2)
        writer.string(s)
        out += writer.text
    }
}
