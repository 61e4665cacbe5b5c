/// A third-party API the gateway can call for a tenant with that tenant's credentials (Stripe,
/// HubSpot, OpenAI…): where it lives, how credentials are applied, which fields they need, and
/// how to check them. Entries come from the shipped catalogue and YAML `integrations:`.
public struct Integration: Sendable, Equatable {
    /// How the credentials go on an outgoing request.
    public enum Auth: Sendable, Equatable {
        /// `Authorization: Bearer <first field>`.
        case bearer
        /// `Authorization: Basic base64(username:password)`.
        case basic
        /// The named header carries the first field.
        case header(String)
        /// The named query parameter carries the first field.
        case query(String)
        /// OAuth 2 with refresh (RFC 6749 §6) at `tokenURL`.
        case oauth2(tokenURL: String)

        /// The fields this scheme itself reads.
        var fields: [String] {
            switch self {
            case .basic: ["username", "password"]
            case .oauth2: ["client_id", "client_secret", "refresh_token"]
            case .bearer, .header, .query: []
            }
        }
    }

    /// A request that succeeds (2xx) when the credentials work, relative to the base URL.
    public struct Verify: Sendable, Equatable {
        public let method: HttpMethod
        public let path: String

        public init(method: HttpMethod, path: String) {
            self.method = method
            self.path = path
        }
    }

    public let name: ServiceName
    public let category: String
    public let auth: Auth
    /// Required credential fields, in the order the scheme uses them (bearer, header and query
    /// apply the first).
    public let credentials: [String]
    public let baseURL: String
    public let verify: Verify?

    public init(
        name: ServiceName, category: String, auth: Auth, credentials: [String], baseURL: String, verify: Verify? = nil
    ) throws(ServiceRoute.InvariantViolation) {
        guard Self.isWord(category) else { throw .invalid(field: "category", reason: "must be a lowercase word (letters, digits, - or _)") }
        guard !credentials.isEmpty else { throw .invalid(field: "credentials", reason: "at least one field is required") }
        for (i, field) in credentials.enumerated() {
            guard Self.isWord(field) else { throw .invalid(field: "credentials[\(i)]", reason: "must be a lowercase field name (letters, digits, - or _)") }
        }
        guard Set(credentials).count == credentials.count else { throw .invalid(field: "credentials", reason: "a field is listed twice") }
        for field in auth.fields where !credentials.contains(field) {
            throw .invalid(field: "credentials", reason: "the auth scheme needs '\(field)'")
        }
        switch auth {
        case .header(let name):
            guard Self.isToken(name) else { throw .invalid(field: "auth", reason: "the header name must be an HTTP field name") }
        case .query(let name):
            guard Self.isWord(name.lowercased()) else { throw .invalid(field: "auth", reason: "the query parameter must be a plain name") }
        case .oauth2(let tokenURL):
            guard Self.isURL(tokenURL) else { throw .invalid(field: "auth.token_url", reason: "must be an absolute http(s) URL") }
        case .bearer, .basic:
            break
        }
        guard Self.isURL(baseURL), !baseURL.contains("?"), !baseURL.contains("#") else {
            throw .invalid(field: "base_url", reason: "must be an absolute http(s) URL without query or fragment")
        }
        if let verify {
            guard verify.path.hasPrefix("/"), verify.path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw .invalid(field: "verify.path", reason: "must start with / and hold no spaces or control characters")
            }
        }
        self.name = name
        self.category = category
        self.auth = auth
        self.credentials = credentials
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.verify = verify
    }

    private static func isWord(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64
            && s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }
    }

    /// An HTTP field name (RFC 9110 token).
    private static func isToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64
            && s.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
    }

    /// An http(s) URL whose origin is one an upstream instance may have (the registry's own
    /// host and port rules), followed by a printable path.
    private static func isURL(_ s: String) -> Bool {
        let schemeLength = s.hasPrefix("https://") ? 8 : s.hasPrefix("http://") ? 7 : 0
        guard schemeLength > 0 else { return false }
        let path = s.dropFirst(schemeLength).firstIndex(of: "/") ?? s.endIndex
        guard (try? UpstreamInstance(url: String(s[..<path]))) != nil else { return false }
        return s[path...].utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
