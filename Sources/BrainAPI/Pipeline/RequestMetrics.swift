import BrainInfrastructure
import CoreMetrics

/// Metrics stage: counts every data-plane request by (service, method, status) and records its
/// duration and its upstream's time to first byte. One per event loop: the swift-metrics
/// handles are made once per label set and kept here, so recording takes no lock.
final class RequestMetrics {
    /// One service's handles on this loop. A proxied request reaches them through its
    /// `ServiceTraffic`, so recording costs no dictionary lookup and no hashing of names.
    final class ServiceHandles {
        let service: String
        private let metrics: GatewayMetrics
        /// By (method, status): a handful per service, so a short scan beats hashing.
        private var requests: [(method: String, status: Int, counter: CoreMetrics.Counter)] = []
        /// Requests served for this service on this loop (the tally's per-service count).
        var served = 0

        // Lazy: a series appears in `/metrics` once it has something to say.
        lazy var duration: CoreMetrics.Timer = metrics.duration(service: service)
        lazy var upstream: CoreMetrics.Timer = metrics.upstreamDuration(service: service)
        lazy var rateLimited: CoreMetrics.Counter = metrics.rateLimited(service: service)
        lazy var cacheHits: CoreMetrics.Counter = metrics.cache(service: service, hit: true)
        lazy var cacheMisses: CoreMetrics.Counter = metrics.cache(service: service, hit: false)

        init(service: String, metrics: GatewayMetrics) {
            self.service = service
            self.metrics = metrics
        }

        func requestFinished(method: String, status: Int, nanoseconds: Int64) {
            requestCounter(method: method, status: status).increment()
            duration.recordNanoseconds(nanoseconds)
        }

        func cacheLookup(hit: Bool) {
            (hit ? cacheHits : cacheMisses).increment()
        }

        private func requestCounter(method: String, status: Int) -> CoreMetrics.Counter {
            for entry in requests where entry.status == status && entry.method == method { return entry.counter }
            let made = metrics.requests(service: service, method: method, status: status)
            requests.append((method, status, made))
            return made
        }
    }

    private let metrics: GatewayMetrics
    private var byService: [String: ServiceHandles] = [:]

    init(metrics: GatewayMetrics) {
        self.metrics = metrics
    }

    /// `service` is a registered service's name, or `unknown` for requests that matched none.
    func handles(for service: String) -> ServiceHandles {
        if let known = byService[service] { return known }
        let made = ServiceHandles(service: service, metrics: metrics)
        byService[service] = made
        return made
    }

    /// Requests served per service on this loop.
    var servedCounts: [(String, Int)] {
        byService.values.compactMap { $0.served > 0 ? ($0.service, $0.served) : nil }
    }

    /// For requests refused before a service's traffic was looked up.
    func requestFinished(service: String, method: String, status: Int, nanoseconds: Int64) {
        handles(for: service).requestFinished(method: method, status: status, nanoseconds: nanoseconds)
    }
}
