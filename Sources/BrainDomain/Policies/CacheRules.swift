/// The `Cache-Control` directives a shared cache acts on (RFC 9111 §5.2), parsed from one or
/// more header values. Unknown directives are ignored, as the RFC requires.
public struct CacheDirectives: Sendable, Equatable {
    public var noStore = false
    public var noCache = false
    public var isPrivate = false
    public var isPublic = false
    public var mustRevalidate = false
    public var maxAge: Int?
    public var sharedMaxAge: Int?

    public init() {}

    public init<S: Sequence>(values: S) where S.Element: StringProtocol {
        for value in values {
            for raw in value.split(separator: ",") {
                let directive = raw.drop(while: { $0 == " " || $0 == "\t" })
                let parts = directive.split(separator: "=", maxSplits: 1)
                guard let nameText = parts.first else { continue }
                let name = nameText.lowercased().trimmingSpaces
                let argument = parts.count > 1 ? Int(parts[1].trimmingSpaces.trimmingQuotes) : nil
                switch name {
                case "no-store": noStore = true
                case "no-cache": noCache = true
                case "private": isPrivate = true
                case "public": isPublic = true
                case "must-revalidate", "proxy-revalidate": mustRevalidate = true
                case "max-age": maxAge = argument.map { max(0, $0) } ?? 0
                case "s-maxage": sharedMaxAge = argument.map { max(0, $0) } ?? 0
                default: continue
                }
            }
        }
    }
}

/// What the response cache does with a request and with a response.
public enum CacheRules {
    public enum RequestMode: Sendable, Equatable {
        /// Serve a fresh stored response if there is one.
        case lookup
        /// `no-cache` / `max-age=0`: the stored response may be used only after the upstream
        /// confirms it (or replaced by the upstream's answer).
        case revalidate
        /// `no-store`: neither served from nor stored in the cache.
        case bypass
    }

    public static func requestMode(_ directives: CacheDirectives, pragmaNoCache: Bool) -> RequestMode {
        if directives.noStore { return .bypass }
        if directives.noCache || directives.maxAge == 0 || pragmaNoCache { return .revalidate }
        return .lookup
    }

    /// How long a response may be served from the shared cache, or nil when it may not be
    /// stored: only 200s, never `no-store`/`private`, never `Vary: *`, never with `Set-Cookie`
    /// (one caller's session must not reach another). `s-maxage` beats `max-age`; the service's
    /// TTL applies when the upstream gave no lifetime. `no-cache` responses are stored but
    /// revalidated on every use (lifetime 0).
    public static func freshnessLifetime(
        status: Int, directives: CacheDirectives, varyAll: Bool, setsCookie: Bool, policy: CachePolicy
    ) -> Double? {
        guard policy.enabled, status == 200, !directives.noStore, !directives.isPrivate, !varyAll, !setsCookie else { return nil }
        if directives.noCache { return 0 }
        if let s = directives.sharedMaxAge { return Double(s) }
        if let m = directives.maxAge { return Double(m) }
        if let ttl = policy.ttlSeconds { return Double(ttl) }
        return nil
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }

    fileprivate var trimmingQuotes: Substring {
        var s = Substring(self)
        if s.first == "\"" { s = s.dropFirst() }
        if s.last == "\"" { s = s.dropLast() }
        return s
    }
}
