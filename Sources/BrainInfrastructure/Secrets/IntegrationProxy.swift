import AsyncHTTPClient
import BrainApplication
import BrainDomain
import CoreMetrics
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Tracing

/// Why the outbound proxy answers a call itself instead of relaying the provider's answer.
/// Never carries a credential value.
public enum IntegrationProxyRefusal: Error, Sendable {
    case unknownIntegration(String)
    case inactive
    case needsReauth
    case rateLimited(SlidingWindowRateLimit.Decision)
    case secretsUnavailable(reason: String)
    /// The provider's breaker is open: retry after this many seconds.
    case providerUnavailable(retryAfter: Double)
    case unreachable(reason: String)
    case timedOut
    case badRequest(String)
}

/// `ANY /api/brain/integrations/{name}/proxy/{path…}`: a tenant's call to a provider with the
/// tenant's stored credentials applied, limited per (tenant, integration), retried when safe,
/// and kept away from a failing provider by a breaker per provider.
public final class IntegrationProxy: Sendable {
    public struct Settings: Sendable {
        public var rateLimit = RateLimitPolicy(requests: 60, windowSeconds: 60)
        public var retry = IntegrationRetryPolicy()
        public var breaker = CircuitBreaker.Configuration(failureThreshold: 5, openSeconds: 30, maxOpenSeconds: 300)
        public init() {}
    }

    /// The provider's answer as it is relayed (its body still streaming), with the limit's state.
    public struct Answer: Sendable {
        public let response: HTTPClientResponse
        public let rateLimit: SlidingWindowRateLimit.Decision
        public let attempts: Int
    }

    /// Calls allowed per (tenant, integration) per window (`RateLimit-Limit`).
    public var requestsPerWindow: Int { settings.rateLimit.requests }

    let connections: IntegrationConnections
    private let provider: ProviderClient
    private let tokens: OAuthTokens
    /// Across replicas (Redis): one OAuth refresh per (tenant, integration) at a time.
    private let refreshLock: (any RefreshLock)?
    private let limits: InProcessRateLimitStore
    private let breakers = Mutex<[String: CircuitBreaker]>([:])
    private let settings: Settings
    private let metrics: any MetricsFactory
    /// Wall-clock seconds (token expiry is in Unix time).
    private let now: @Sendable () -> Double
    /// Monotonic seconds (limits and breakers must not follow clock jumps).
    private let monotonic: @Sendable () -> Double
    private let logger: Logger
    private let tracer: (any Tracer)?

    /// - Parameter tokens: shared with `connections`' change hook, so new credentials drop
    ///   the tokens of the old ones.
    public init(
        connections: IntegrationConnections, provider: ProviderClient, tokens: OAuthTokens, settings: Settings = .init(), metrics: GatewayMetrics,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }, monotonic: @escaping @Sendable () -> Double,
        logger: Logger, tracer: (any Tracer)? = nil, refreshLock: (any RefreshLock)? = nil
    ) {
        self.refreshLock = refreshLock
        self.logger = logger
        self.tracer = tracer
        self.connections = connections
        self.provider = provider
        self.tokens = tokens
        self.limits = InProcessRateLimitStore()
        self.settings = settings
        self.metrics = metrics.factory
        self.now = now
        self.monotonic = monotonic
    }

    /// Request header fields never sent to a provider: hop-by-hop fields, the client's own
    /// credentials, the gateway's identity fields, and the platform's trace context (a
    /// provider is a third party).
    public static let withheldRequestFields: Set<String> = [
        "authorization", "cookie", "x-brain-token", "x-tenant-id", "host", "connection", "keep-alive", "proxy-authorization",
        "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "content-length", "expect", "traceparent", "tracestate", "baggage",
    ]

    /// Response header fields not relayed: hop-by-hop fields, and cookies a provider sets
    /// (they would land on the gateway's origin).
    public static let withheldResponseFields: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "set-cookie", "content-length",
    ]

    /// - Parameters:
    ///   - pathAndQuery: what follows `/proxy` (starting with `/`, or empty), query included.
    public func call(
        _ name: String, tenant: TenantID, method: HTTPMethod, pathAndQuery: String, headers: HTTPHeaders, body: ByteBuffer?
    ) async throws(IntegrationProxyRefusal) -> Answer {
        let started = monotonic()
        let span = startSpan(connections.catalogue[name] != nil ? name : "unknown", method: method, pathAndQuery: pathAndQuery, headers: headers)
        do {
            let answer = try await attempt(name, tenant: tenant, method: method, pathAndQuery: pathAndQuery, headers: headers, body: body)
            let status = Int(answer.response.status.code)
            record(name, tenant: tenant, method: method, pathAndQuery: pathAndQuery, status: status, attempts: answer.attempts, since: started)
            span?.attributes["http.response.status_code"] = status
            span?.attributes["brain.attempts"] = answer.attempts
            if status >= 500 { span?.setStatus(.init(code: .error)) }
            span?.end()
            return answer
        } catch {
            let status = Self.status(of: error)
            // A name outside the catalogue is the client's text: never a metric label.
            let known = connections.catalogue[name] != nil
            record(known ? name : "unknown", tenant: tenant, method: method, pathAndQuery: pathAndQuery, status: status, attempts: nil, since: started)
            span?.attributes["http.response.status_code"] = status
            span?.setStatus(.init(code: .error))
            span?.end()
            throw error
        }
    }

    private func attempt(
        _ name: String, tenant: TenantID, method: HTTPMethod, pathAndQuery: String, headers: HTTPHeaders, body: ByteBuffer?
    ) async throws(IntegrationProxyRefusal) -> Answer {
        let integration: Integration
        do { integration = try connections.integration(named: name) } catch { throw .unknownIntegration(name) }
        // The data plane's own path rules: no dot segments or encoded separators (also double
        // encoded), no control bytes, valid percent-encoding and UTF-8.
        do { _ = try RequestTarget.parse(pathAndQuery) } catch {
            throw .badRequest("the provider path is refused: \(error.description)")
        }
        let decision = limits.attempt(RateLimitKey(tenant: tenant, service: integration.name), policy: settings.rateLimit, now: monotonic())
        guard decision.allowed else { throw .rateLimited(decision) }
        let stored: IntegrationConnection?
        do { stored = try await connections.connection(of: name, tenant: tenant) } catch {
            if case .secretsUnavailable(let reason) = error { throw .secretsUnavailable(reason: reason) }
            throw .secretsUnavailable(reason: "the secret store failed")
        }
        guard var connection = stored else { throw .inactive }
        guard connection.status == .active else { throw .needsReauth }
        let breakerKey = name + " " + connection.baseURL(of: integration)
        try admit(breakerKey)

        var outbound = HTTPHeaders()
        for field in headers where !Self.withheldRequestFields.contains(field.name.lowercased()) {
            outbound.add(name: field.name, value: field.value)
        }
        let idempotencyKey = headers.contains(name: "Idempotency-Key")
        let repeatable = IntegrationRetryPolicy.isRepeatable(HttpMethod(method.rawValue), idempotencyKey: idempotencyKey)
        let key = OAuthTokens.Key(tenant: tenant, integration: name)
        var rejected: String?
        var refreshedAfter401 = false
        var retry = 0
        var attempts = 0
        while true {
            var accessToken: String?
            if case .oauth2(let tokenURL) = integration.auth {
                (accessToken, connection) = try await token(for: key, integration: integration, tokenURL: tokenURL, connection: connection, rejected: rejected)
            }
            let request: HTTPClientRequest
            do {
                request = try provider.request(
                    integration, connection, accessToken: accessToken, method: method, pathAndQuery: pathAndQuery, headers: outbound, body: body)
            } catch {
                throw .needsReauth
            }
            attempts += 1
            let outcome: IntegrationRetryPolicy.Outcome
            var answer: HTTPClientResponse?
            var failure: (any Error)?
            do {
                let response = try await provider.send(request)
                let status = Int(response.status.code)
                record(breakerKey, failed: status >= 500)
                if status == 401, let accessToken, !refreshedAfter401 {
                    // The token was revoked or expired early: one refresh, one more try.
                    refreshedAfter401 = true
                    rejected = accessToken
                    continue
                }
                outcome = .answered(status: status, retryAfter: IntegrationRetryPolicy.retryAfterSeconds(response.headers.first(name: "Retry-After")))
                answer = response
            } catch {
                record(breakerKey, failed: true)
                failure = error
                outcome = ProviderClient.isNotConnected(error) ? .notConnected : .broken
            }
            retry += 1
            guard let delay = settings.retry.delay(after: outcome, retry: retry, repeatable: repeatable, random: Double.random(in: 0..<1)) else {
                if let answer { return Answer(response: answer, rateLimit: decision, attempts: attempts) }
                if let error = failure as? HTTPClientError, error == .deadlineExceeded || error == .readTimeout { throw .timedOut }
                throw .unreachable(reason: failure.map { UpstreamErrorText.describe($0) } ?? "no answer")
            }
            if let answer { _ = try? await answer.body.collect(upTo: 1 << 20) }
            do { try await Task.sleep(for: .seconds(delay)) } catch { throw .unreachable(reason: "cancelled") }
            try admit(breakerKey)
        }
    }

    /// The access token to send (refreshed when expired, or when `rejected` was refused), and
    /// the connection as it now stands.
    private func token(
        for key: OAuthTokens.Key, integration: Integration, tokenURL: String, connection: IntegrationConnection, rejected: String?
    ) async throws(IntegrationProxyRefusal) -> (String, IntegrationConnection) {
        let seed = (connection.credentials["access_token"], connection.credentials["expires_at"].flatMap(Double.init))
        switch await tokens.ticket(key, seed: seed, now: now(), rejected: rejected) {
        case .use(let token):
            return (token, connection)
        case .needsReauth:
            throw .needsReauth
        case .failed:
            throw .unreachable(reason: "the provider's token endpoint could not be reached")
        case .refresh(let generation):
            var connection = connection
            var lease = RefreshLease.unavailable
            if let refreshLock {
                let name = "brain:lock:oauth:{\(key.tenant.value):\(key.integration)}"
                lease = await refreshLock.acquire(name, for: 15)
                if case .heldElsewhere = lease {
                    // Another replica is refreshing: its token reaches the store shortly.
                    let (latest, changed) = await refreshedElsewhere(key, previous: connection)
                    connection = latest
                    if changed, let token = latest.credentials["access_token"] {
                        tokens.refreshed(key, token: token, expiresAt: latest.credentials["expires_at"].flatMap(Double.init), generation: generation)
                        return (token, latest)
                    }
                    // It did not finish in time: refresh here, with the latest refresh token.
                }
            }
            let outcome = await refresh(key, connection: connection, tokenURL: tokenURL, generation: generation)
            if case .acquired(let release) = lease { await release() }
            return try outcome.get()
        }
    }

    /// One refresh at the provider, its result kept and handed to the calls waiting for it.
    private func refresh(
        _ key: OAuthTokens.Key, connection: IntegrationConnection, tokenURL: String, generation: Int
    ) async -> Result<(String, IntegrationConnection), IntegrationProxyRefusal> {
        switch await provider.refresh(connection.credentials, tokenURL: tokenURL, now: now()) {
        case .token(let token, let expiresAt, let refreshToken):
            let updated = connection.refreshed(token: token, expiresAt: expiresAt, refreshToken: refreshToken)
            // Kept before anyone uses it: a rotated refresh token lost here locks the tenant out.
            try? await connections.store(refreshed: updated, of: key.integration, tenant: key.tenant)
            tokens.refreshed(key, token: token, expiresAt: expiresAt, generation: generation)
            return .success((token, updated))
        case .refused:
            await connections.markNeedsReauth(key.integration, tenant: key.tenant)
            tokens.refused(key, generation: generation)
            return .failure(.needsReauth)
        case .failed(let reason):
            tokens.failed(key, generation: generation)
            return .failure(.unreachable(reason: reason))
        }
    }

    /// Waits (up to 10 s) for the store to hold a token other than `previous`'s, read past the
    /// cache; the latest connection, and whether its token changed.
    private func refreshedElsewhere(_ key: OAuthTokens.Key, previous: IntegrationConnection) async -> (IntegrationConnection, Bool) {
        let before = previous.credentials["access_token"]
        var latest = previous
        for _ in 0..<100 {
            do { try await Task.sleep(for: .milliseconds(100)) } catch { break }
            guard let stored = try? await connections.connection(of: key.integration, tenant: key.tenant, fresh: true) else { continue }
            latest = stored
            if stored.credentials["access_token"] != before { return (stored, true) }
        }
        return (latest, false)
    }

    private func admit(_ key: String) throws(IntegrationProxyRefusal) {
        let now = monotonic()
        let admission: CircuitBreaker.Admission = breakers.withLock { breakers in
            var breaker = breakers[key] ?? CircuitBreaker(configuration: settings.breaker)
            let (admission, _) = breaker.admit(now: now)
            breakers[key] = breaker
            return admission
        }
        if case .rejected(let retryAfter) = admission { throw .providerUnavailable(retryAfter: retryAfter) }
    }

    private func record(_ key: String, failed: Bool) {
        let now = monotonic()
        breakers.withLock { breakers in
            guard var breaker = breakers[key] else { return }
            _ = failed ? breaker.recordFailure(now: now) : breaker.recordSuccess(now: now)
            breakers[key] = breaker
        }
    }

    /// Forgets the limit's counters of (tenant, integration) pairs idle for a whole window.
    public func sweepIdle(now: Double) { limits.sweepIdle(now: now) }

    /// A client span per call, in the caller's trace when it sent `traceparent`: the
    /// integration, method and path without its query (credentials are added later and never
    /// recorded). No trace context is sent to the provider: it is a third party.
    private func startSpan(_ name: String, method: HTTPMethod, pathAndQuery: String, headers: HTTPHeaders) -> (any Span)? {
        guard let tracer else { return nil }
        var context = ServiceContext.topLevel
        tracer.extract(headers, into: &context, using: FieldExtractor())
        let span = tracer.startSpan("integration \(name)", context: context, ofKind: .client)
        span.attributes["brain.integration"] = name
        span.attributes["http.request.method"] = method.rawValue
        span.attributes["url.path"] = String(pathAndQuery.prefix { $0 != "?" }.prefix(256))
        return span
    }

    private struct FieldExtractor: Extractor {
        func extract(key: String, from carrier: HTTPHeaders) -> String? { carrier.first(name: key) }
    }

    /// The metric, and one log line per call: the path without its query (a query may carry
    /// a client's data; the credentials are never in what is logged — they are added later).
    private func record(_ name: String, tenant: TenantID, method: HTTPMethod, pathAndQuery: String, status: Int, attempts: Int?, since: Double) {
        count(name, status: status)
        let path = pathAndQuery.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        var metadata: Logger.Metadata = [
            "integration": .string(name), "tenant_id": .string(tenant.value), "method": .string(method.rawValue),
            "path": .string(String(path.prefix(256))), "status": .stringConvertible(status),
            "duration_ms": .stringConvertible(Int((monotonic() - since) * 1000)),
        ]
        if let attempts { metadata["attempts"] = .stringConvertible(attempts) }
        logger.info("integration call", metadata: metadata)
    }

    private func count(_ name: String, status: Int) {
        CoreMetrics.Counter(
            label: "brain_gateway_integration_requests_total", dimensions: [("integration", name), ("status", String(status))], factory: metrics
        ).increment()
    }

    static func status(of refusal: IntegrationProxyRefusal) -> Int {
        switch refusal {
        case .unknownIntegration: 404
        case .inactive: 409
        case .needsReauth: 401
        case .rateLimited: 429
        case .secretsUnavailable, .providerUnavailable: 503
        case .unreachable: 502
        case .timedOut: 504
        case .badRequest: 400
        }
    }
}
