import BrainApplication
import BrainDomain
import BrainInfrastructure
import NIOCore
import NIOHTTP1

/// One proxied request from its head to the last byte of its response: the facts decided by
/// the pipeline stages and the progress of both sides. Owned by one `DataPlaneHandler` and
/// touched only on its event loop.
final class ProxyExchange: ConnectionExchange {
    let clientHead: RequestHead
    let requestID: String
    /// The service's directory entry; its route is read through it rather than stored here
    /// (a stored copy would retain every field of the route, per request).
    let entry: ServiceDirectory.Entry
    var service: ServiceRoute { entry.service }
    let upstreamURI: String
    /// Whether the client connection stays open after this exchange (cleared when the response
    /// can only be delimited by closing it).
    var keepAlive: Bool
    let startedAt: NIODeadline
    /// The tenant the request acts for (nil on a public path).
    let tenant: TenantID?
    /// The verified caller (nil on a public path).
    let principal: Principal?

    /// This loop's balancer, budget and the service's breakers.
    let traffic: ServiceTraffic
    /// The rate-limit stage's verdict, echoed in `RateLimit-*` response fields.
    let rateLimit: RateLimiting.Verdict

    /// The request's W3C trace context (set before the first attempt) when tracing is off.
    var trace: TraceContext?
    /// The request's spans when tracing is on.
    var tracing: RequestTrace?
    /// The current attempt's `traceparent` (its client span) when tracing is on.
    var upstreamTraceparent: String?

    /// Where both sides of the exchange are, and every decision that depends on it.
    var progress: ExchangeStateMachine
    var requestEnded: Bool { progress.requestEnded }
    var instance: UpstreamInstance?
    /// Index of `instance` in the service's instance list.
    var instanceIndex: Int?
    /// The current attempt's outcome was told to the breaker and balancer.
    var outcomeRecorded = true
    var attemptStartedAt = NIODeadline.uptimeNanoseconds(0)
    /// When the attempt's request head went out on a connection: the balancer's latency sample
    /// starts here, so opening a connection (once per pool slot) is not taken for the
    /// instance's slowness — a freshly readmitted instance would otherwise be shunned for it.
    var requestWrittenAt = NIODeadline.uptimeNanoseconds(0)
    /// A retry waiting out its backoff.
    var backoff: Scheduled<Void>?

    /// Set for a cacheable request: where its response is stored.
    var cacheKey: ResponseCache.Key?
    /// A stored response being revalidated with the upstream.
    var revalidating: ResponseCache.StoredResponse?
    /// The stored response's validators went upstream (so a 304 is the cache's to handle).
    var validatorsSent = false
    /// The upstream confirmed the stored response (304): it is being served; the upstream's
    /// own (empty) body is ignored.
    var servingStored = false
    /// The response being stored while it streams to the client (nil: not stored).
    var cacheFill: ResponseCaching.Fill?
    /// How the relayed response body is framed on the client connection, once its head was
    /// written as bytes (nil: the response went through NIO's encoder — gateway-made ones).
    var framing: ResponseHeaders.Framing?
    var connection: UpstreamConnection?
    /// The attempt `connection` carries: its events are told to `progress` as that attempt's.
    var connectionAttempt = 0
    /// Body parts received but not yet written upstream.
    var pending: [ByteBuffer] = []
    /// Every body part already written upstream, kept while `progress` says the body can be
    /// replayed, so a retry can send them again.
    var sent: [ByteBuffer] = []
    /// Request parts were written upstream since the last flush.
    var upstreamNeedsFlush = false
    /// The access log line and metrics were recorded (once per exchange).
    var recorded = false

    var status: UInt = 0
    var bytesOut: Int64 = 0

    init(
        clientHead: RequestHead, requestID: String, entry: ServiceDirectory.Entry, upstreamURI: String, keepAlive: Bool,
        rules: ExchangeStateMachine.Rules, requestEnded: Bool = false, startedAt: NIODeadline, tenant: TenantID?, principal: Principal?, traffic: ServiceTraffic,
        rateLimit: RateLimiting.Verdict
    ) {
        self.traffic = traffic
        self.rateLimit = rateLimit
        self.tenant = tenant
        self.principal = principal
        self.clientHead = clientHead
        self.requestID = requestID
        self.entry = entry
        self.upstreamURI = upstreamURI
        self.keepAlive = keepAlive
        self.progress = ExchangeStateMachine(rules: rules, requestEnded: requestEnded)
        self.startedAt = startedAt
    }

    /// Tells the chosen instance's breaker and balancer how the current attempt went, once.
    /// `status` is the upstream's (0 when it gave none).
    func recordOutcome(_ outcome: ServiceBreakers.Outcome, latencySeconds: Double?, status: Int = 0, now: Double) {
        guard !outcomeRecorded, let index = instanceIndex else { return }
        outcomeRecorded = true
        traffic.record(outcome, instance: index, latencySeconds: latencySeconds, status: status, now: now)
    }
}
