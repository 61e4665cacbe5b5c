/// A tenant's credentials for one integration: field name → value (`api_key`, `client_secret`…).
///
/// Values must never reach a log line, an event, a response or an error, so the type's own
/// descriptions name the fields only: interpolating it by mistake leaks nothing.
public struct Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let values: [String: String]

    public init(_ values: [String: String]) {
        self.values = values
    }

    public subscript(field: String) -> String? { values[field] }

    /// The fields present, sorted (what responses show: `{"<field>": "set"}`).
    public var fields: [String] { values.keys.sorted() }

    public var description: String { "Credentials(\(fields.joined(separator: ", ")))" }
    public var debugDescription: String { description }
}
