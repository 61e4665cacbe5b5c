import BrainApplication
import BrainDomain
import BrainInfrastructure
import NIOCore

/// Accounting for every request the data plane answers, in one place: the request's spans
/// closed, the in-flight gauge, the per-service counters and latency histogram, the tenant's
/// tally, and the access log line — for a proxied exchange, a refusal by a stage, and an
/// answer from the cache alike, so no path can forget one of them.
struct ExchangeRecorder {
    let metrics: GatewayMetrics
    let accessLog: AccessLog
    /// This event loop's traffic state (nil only for a loop outside the server's group).
    let traffic: LoopTraffic?

    /// A request the stages let through became an exchange.
    func exchangeStarted() {
        metrics.inFlight.increment()
    }

    /// A proxied exchange ended (response complete, cut, or answered by the gateway).
    func exchangeFinished(_ exchange: ProxyExchange, error: String?) {
        let now = NIODeadline.now()
        let elapsed = now - exchange.startedAt
        exchange.tracing?.finish(status: exchange.status, error: error)
        // A client that left before any answer says nothing about the service.
        if exchange.status != 0 {
            exchange.traffic.evidence.exchangeFinished(status: Int(exchange.status), nanoseconds: elapsed.nanoseconds, at: now)
        }
        metrics.inFlight.decrement()
        traffic?.tally.record(exchange.traffic.metrics, tenant: exchange.tenant, milliseconds: Double(elapsed.nanoseconds) / 1e6)
        exchange.traffic.metrics.requestFinished(
            method: exchange.clientHead.method.rawValue, status: Int(exchange.status), nanoseconds: elapsed.nanoseconds)
        guard accessLog.isEnabled else { return }
        accessLog.record(
            requestID: exchange.requestID, method: exchange.clientHead.method, path: exchange.clientHead.uri,
            service: exchange.service.name.value, status: exchange.status,
            durationSeconds: Double(elapsed.nanoseconds) / 1e9, bytesIn: exchange.progress.bytesIn, bytesOut: exchange.bytesOut, error: error,
            tenant: exchange.tenant?.value, subject: exchange.principal?.subject)
    }

    /// A stage refused the request before it became an exchange.
    func refused(_ head: RequestHead, requestID: String, error: GatewayError, service: String?, trace: RequestTrace?) {
        trace?.finish(status: error.status.code, error: error.code)
        traffic?.metrics.requestFinished(service: service ?? "unknown", method: head.method.rawValue, status: Int(error.status.code), nanoseconds: 0)
        accessLog.record(
            requestID: requestID, method: head.method, path: head.uri, service: service ?? "-", status: error.status.code,
            durationSeconds: 0, bytesIn: 0, bytesOut: 0, error: error.code)
    }

    /// The cache answered: nothing went upstream.
    func servedFromCache(
        _ head: RequestHead, requestID: String, stored: ResponseCache.StoredResponse, service: String, tenant: TenantID?, trace: RequestTrace?
    ) {
        if let traffic {
            let handles = traffic.metrics.handles(for: service)
            traffic.tally.record(handles, tenant: tenant, milliseconds: 0)
            handles.requestFinished(method: head.method.rawValue, status: Int(stored.status.code), nanoseconds: 0)
        }
        trace?.finish(status: stored.status.code, error: nil)
        accessLog.record(
            requestID: requestID, method: head.method, path: head.uri, service: service, status: stored.status.code,
            durationSeconds: 0, bytesIn: 0, bytesOut: Int64(stored.body.readableBytes), error: nil)
    }
}
