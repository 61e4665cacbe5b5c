/// How a workflow meets its callers: the input it accepts, the alias it may be run at, and the
/// answer it gives.
public struct WorkflowInterface: Sendable, Equatable {
    /// An extra path a workflow runs at, under `/api/brain/`.
    public struct Exposure: Sendable, Equatable, Hashable {
        public var method: HttpMethod
        public var path: String

        public init(method: HttpMethod, path: String) throws(ServiceRoute.InvariantViolation) {
            guard HttpMethod.routable.contains(method), method != .head, method != .options else {
                throw .invalid(field: "expose.method", reason: "'\(method)' is not one of GET, POST, PUT, DELETE, PATCH")
            }
            let prefix = "/api/brain/"
            guard path.hasPrefix(prefix), path.utf8.count > prefix.utf8.count, path.utf8.count <= 256,
                  path.utf8.allSatisfy({ Self.isPathByte($0) }), !path.hasSuffix("/"), !path.contains("//")
            else {
                throw .invalid(field: "expose.path", reason: "must be a plain path under /api/brain/ (letters, digits, - _ . /)")
            }
            let first = path.dropFirst(prefix.count).split(separator: "/").first.map(String.init) ?? ""
            guard !Self.reservedFirstSegments.contains(first) else {
                throw .invalid(field: "expose.path", reason: "/api/brain/\(first) belongs to the gateway")
            }
            self.method = method
            self.path = path
        }

        /// The gateway's own paths under `/api/brain/`, which no alias may shadow.
        public static let reservedFirstSegments: Set<String> = [
            "services", "routes", "events", "health", "metrics", "workflows", "runs", "agents", "integrations", "optimize-platform", "optimizer",
        ]

        private static func isPathByte(_ b: UInt8) -> Bool {
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
                || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "/")
        }
    }

    /// The input's shape: required members and the JSON type of named ones (a small subset of
    /// JSON Schema, enough to refuse a malformed request before anything runs).
    public struct InputSchema: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable { case string, number, integer, boolean, object, array }

        public var required: [String]
        public var properties: [String: Kind]

        public init(required: [String] = [], properties: [String: Kind] = [:]) {
            self.required = required
            self.properties = properties
        }

        /// The first member of `input` that does not fit, as (field, reason).
        public func violation(in input: JSONValue) -> (field: String, reason: String)? {
            guard case .object(let members) = input else {
                return required.isEmpty && properties.isEmpty && input == .null ? nil : ("input", "must be a JSON object")
            }
            for name in required where members[name] == nil || members[name] == .null {
                return (name, "is required")
            }
            for name in properties.keys.sorted() {
                guard let kind = properties[name], let value = members[name], value != .null else { continue }
                if !Self.value(value, is: kind) { return (name, "must be \(kind == .integer ? "an" : "a") \(kind.rawValue)") }
            }
            return nil
        }

        static func value(_ value: JSONValue, is kind: Kind) -> Bool {
            switch (kind, value) {
            case (.string, .string), (.number, .number), (.boolean, .bool), (.object, .object), (.array, .array): true
            case (.integer, .number(let n)): JSONValue.wholeNumber(n) != nil
            default: false
            }
        }
    }

    /// The answer of a successful run.
    public struct Response: Sendable, Equatable {
        public var status: Int
        public var body: TemplateValue

        public init(status: Int, body: TemplateValue) throws(ServiceRoute.InvariantViolation) {
            guard (200...299).contains(status) else { throw .invalid(field: "response.status", reason: "must be a 2xx status") }
            self.status = status
            self.body = body
        }
    }

    public var expose: Exposure?
    public var input: InputSchema
    /// nil: `{"run_id", "status", "output": {step id: body}}`.
    public var response: Response?

    public init(expose: Exposure? = nil, input: InputSchema = InputSchema(), response: Response? = nil) {
        self.expose = expose
        self.input = input
        self.response = response
    }
}
