import AsyncHTTPClient
import BrainApplication
import BrainDomain
import Foundation
import Logging
import NIOCore
import Synchronization

/// Asks the platform's auth service about bearer tokens the gateway cannot verify itself
/// (opaque tokens), with OAuth 2.0 Token Introspection (RFC 7662): a form POST of `token=…`,
/// authenticated with the gateway's client credentials (HTTP Basic), answered
/// `{"active": true, "sub", "tenant_id", "roles", "exp"}`.
///
/// Answers are cached — an active token until its `exp` but at most `cacheSeconds` (so a
/// revocation is seen within that time), an inactive one for `negativeCacheSeconds` — and a
/// token is introspected once at a time however many requests carry it. An auth service that
/// cannot answer is never taken as a verdict: the request is refused with 503 and nothing is
/// cached, so the next request asks again.
public final class TokenIntrospector: Sendable {
    /// The configured endpoint and cache time, plus the fixed rules.
    public struct Settings: Sendable, Equatable {
        public var url: String
        public var clientID: String?
        public var clientSecret: String?
        public var cacheSeconds: Int
        /// How long an inactive answer is reused.
        public var negativeCacheSeconds = 30
        public var timeoutSeconds = 5

        public init(_ settings: IntrospectionSettings) {
            url = settings.url
            clientID = settings.clientID
            clientSecret = settings.clientSecret
            cacheSeconds = settings.cacheSeconds
        }
    }

    public enum Verdict: Sendable, Equatable {
        /// The token is active for this principal; the gateway may rely on that until `validUntil`.
        case active(Principal, validUntil: Double)
        /// Inactive (expired, revoked, unknown) or without the claims the gateway needs.
        case inactive(reason: String)
        /// The auth service could not answer; the reason is for logs only.
        case unavailable(reason: String)
    }

    private enum Entry {
        case known(Verdict, until: Double)
        case pending([@Sendable (Verdict) -> Void])
    }

    public let settings: Settings
    private let client: HTTPClient
    private let logger: Logger
    private let entries = Mutex<[String: Entry]>([:])
    /// Introspection calls made (for tests and the bench: the cache's effect is observable).
    private let calls = Mutex(0)
    /// Bounds memory when many distinct tokens arrive (expired entries are swept first).
    private let maxEntries: Int

    public init(settings: Settings, client: HTTPClient, logger: Logger, maxEntries: Int = 100_000) {
        self.settings = settings
        self.client = client
        self.logger = logger
        self.maxEntries = maxEntries
    }

    public var callCount: Int { calls.withLock { $0 } }

    /// The cached verdict on `token`, if one is still valid: the hot path's only cost.
    public func cached(_ token: String, now: Double) -> Verdict? {
        entries.withLock { entries in
            guard case .known(let verdict, let until)? = entries[token], now < until else { return nil }
            return verdict
        }
    }

    /// The verdict on `token`, from the cache or from one call shared by every concurrent asker.
    /// `completion` may run on any thread.
    public func introspect(_ token: String, now: Double, completion: @escaping @Sendable (Verdict) -> Void) {
        enum Step { case answered(Verdict), wait, call }
        let step: Step = entries.withLock { entries in
            switch entries[token] {
            case .known(let verdict, let until)? where now < until:
                return .answered(verdict)
            case .pending(var waiters)?:
                waiters.append(completion)
                entries[token] = .pending(waiters)
                return .wait
            default:
                if entries.count >= maxEntries { Self.makeRoom(&entries, now: now, limit: maxEntries) }
                entries[token] = .pending([completion])
                return .call
            }
        }
        switch step {
        case .answered(let verdict): completion(verdict)
        case .wait: break
        case .call:
            Task {
                let verdict = await self.ask(token)
                self.settle(token, verdict)
            }
        }
    }

    /// The same, for callers that can wait (the control plane).
    public func introspect(_ token: String, now: Double) async -> Verdict {
        await withCheckedContinuation { continuation in
            introspect(token, now: now) { continuation.resume(returning: $0) }
        }
    }

    private func settle(_ token: String, _ verdict: Verdict) {
        let now = Date().timeIntervalSince1970
        let waiters: [@Sendable (Verdict) -> Void] = entries.withLock { entries in
            guard case .pending(let waiters)? = entries[token] else { return [] }
            switch verdict {
            case .active(_, let validUntil): entries[token] = .known(verdict, until: validUntil)
            case .inactive: entries[token] = .known(verdict, until: now + Double(settings.negativeCacheSeconds))
            case .unavailable: entries[token] = nil
            }
            return waiters
        }
        for waiter in waiters { waiter(verdict) }
    }

    private static func makeRoom(_ entries: inout [String: Entry], now: Double, limit: Int) {
        entries = entries.filter { _, entry in
            if case .known(_, let until) = entry { return until > now }
            return true
        }
        guard entries.count >= limit else { return }
        // Still full of live entries: forget the settled half (they are asked again if used).
        var dropped = 0
        for (key, entry) in entries where dropped < limit / 2 {
            if case .known = entry {
                entries[key] = nil
                dropped += 1
            }
        }
    }

    // MARK: The call

    private func ask(_ token: String) async -> Verdict {
        calls.withLock { $0 += 1 }
        var request = HTTPClientRequest(url: settings.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        if let id = settings.clientID {
            let pair = Self.formEncode(id) + ":" + Self.formEncode(settings.clientSecret ?? "")
            request.headers.add(name: "Authorization", value: "Basic " + Data(pair.utf8).base64EncodedString())
        }
        request.body = .bytes(ByteBuffer(string: "token=\(Self.formEncode(token))&token_type_hint=access_token"))
        let started = Date().timeIntervalSince1970
        do {
            let response = try await client.execute(request, timeout: .seconds(Int64(settings.timeoutSeconds)))
            let body = try await response.body.collect(upTo: 64 * 1024)
            guard response.status == .ok else {
                return unavailable("the introspection endpoint answered HTTP \(response.status.code)")
            }
            guard let json = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
                return unavailable("the introspection endpoint's answer is not a JSON object")
            }
            return verdict(json, now: started)
        } catch {
            return unavailable(UpstreamErrorText.describe(error, timeoutSeconds: Double(settings.timeoutSeconds)))
        }
    }

    private func unavailable(_ reason: String) -> Verdict {
        logger.warning("token introspection failed", metadata: ["error": .string(reason)])
        return .unavailable(reason: reason)
    }

    /// RFC 7662 §2.2: only `active` is required; the gateway also needs who and which tenant.
    func verdict(_ json: [String: Any], now: Double) -> Verdict {
        guard json["active"] as? Bool == true else { return .inactive(reason: "the token is not active") }
        guard let sub = json["sub"] as? String, !sub.isEmpty, sub.utf8.count <= 256 else {
            return .inactive(reason: "the introspected token has no 'sub'")
        }
        guard let tenantText = json["tenant_id"] as? String, let tenant = try? TenantID(tenantText) else {
            return .inactive(reason: "the introspected token has no valid 'tenant_id'")
        }
        var roles: [String] = []
        if let list = json["roles"] {
            guard let strings = list as? [String] else { return .inactive(reason: "the introspected token's 'roles' is not a list of strings") }
            roles = strings
        }
        let cacheLimit = now + Double(settings.cacheSeconds)
        var expiresAt = cacheLimit
        if let exp = json["exp"] {
            guard !(exp is Bool), let seconds = (exp as? NSNumber)?.doubleValue else {
                return .inactive(reason: "the introspected token's 'exp' is not a number")
            }
            guard seconds > now else { return .inactive(reason: "the token has expired") }
            expiresAt = seconds
        }
        return .active(Principal(subject: sub, tenant: tenant, roles: roles, expiresAt: expiresAt), validUntil: min(expiresAt, cacheLimit))
    }

    /// `application/x-www-form-urlencoded` value encoding (RFC 6749 §2.3.1 for the credentials).
    private static let hex = Array("0123456789ABCDEF".unicodeScalars)

    static func formEncode(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "*"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out += "+"
            default:
                out += "%"
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0xF)])
            }
        }
        return out
    }
}
