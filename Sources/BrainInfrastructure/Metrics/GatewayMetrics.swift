import CoreMetrics
import Prometheus
import Synchronization

/// The gateway's Prometheus metrics, recorded through
/// swift-metrics handles backed by this gateway's own `PrometheusCollectorRegistry` (no global
/// bootstrap, so several gateways can live in one process, as in the tests).
///
/// Label cardinality is bounded by construction: `service` is a registered service's name or
/// `unknown`, `method` one of the standard methods or `OTHER`, `status` a three-digit code.
/// Handles are created once per label set and cached by the caller (each event loop keeps
/// its own cache), so recording is an atomic add or a histogram update, no lookup.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    public let inFlight: CoreMetrics.Meter

    /// Seconds: from sub-millisecond proxying to multi-second upstream calls.
    public static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.buckets.map { .nanoseconds(Int64($0 * 1e9)) }
        factory.defaultValueHistogramBuckets = Self.buckets
        self.registry = registry
        self.factory = factory
        self.inFlight = CoreMetrics.Meter(label: "brain_gateway_requests_in_flight", factory: factory)
    }

    public static func methodLabel(_ method: String) -> String { methods.contains(method) ? method : "OTHER" }

    public func requests(service: String, method: String, status: Int) -> CoreMetrics.Counter {
        CoreMetrics.Counter(
            label: "brain_gateway_requests_total",
            dimensions: [("service", service), ("method", Self.methodLabel(method)), ("status", String(status))], factory: factory)
    }

    public func duration(service: String) -> CoreMetrics.Timer {
        CoreMetrics.Timer(label: "brain_gateway_request_duration_seconds", dimensions: [("service", service)], preferredDisplayUnit: .seconds, factory: factory)
    }

    public func upstreamDuration(service: String) -> CoreMetrics.Timer {
        CoreMetrics.Timer(label: "brain_gateway_upstream_duration_seconds", dimensions: [("service", service)], preferredDisplayUnit: .seconds, factory: factory)
    }

    public func rateLimited(service: String) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: "brain_gateway_rate_limited_total", dimensions: [("service", service)], factory: factory)
    }

    public func cache(service: String, hit: Bool) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: "brain_gateway_cache_lookups_total", dimensions: [("service", service), ("result", hit ? "hit" : "miss")], factory: factory)
    }

    /// The Prometheus text exposition: the registry's metrics, then the families read at
    /// scrape time.
    public func exposition(appending families: [GaugeFamilyText] = []) -> [UInt8] {
        var bytes = registry.emitToBuffer()
        for family in families { bytes.append(contentsOf: family.bytes) }
        return bytes
    }
}
