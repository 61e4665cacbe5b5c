import BrainInfrastructure
import CoreMetrics

/// Metrics stage: counts every data-plane request by (service, method, status) and records its
/// duration and its upstream's time to first byte. One per event loop: the swift-metrics
/// handles are looked up once per label set and kept here, so recording takes no lock.
final class RequestMetrics {
    private struct Key: Hashable {
        let service: String
        let method: String
        let status: Int
    }

    private let metrics: GatewayMetrics
    private var counters: [Key: CoreMetrics.Counter] = [:]
    private var durations: [String: CoreMetrics.Timer] = [:]
    private var upstream: [String: CoreMetrics.Timer] = [:]
    private var limited: [String: CoreMetrics.Counter] = [:]
    private var cacheResults: [String: (hit: CoreMetrics.Counter, miss: CoreMetrics.Counter)] = [:]

    init(metrics: GatewayMetrics) {
        self.metrics = metrics
    }

    /// `service` is a registered service's name, or `unknown` for requests that matched none.
    func requestFinished(service: String, method: String, status: Int, nanoseconds: Int64) {
        let key = Key(service: service, method: method, status: status)
        let counter = counters[key] ?? {
            let made = metrics.requests(service: service, method: method, status: status)
            counters[key] = made
            return made
        }()
        counter.increment()
        let timer = durations[service] ?? {
            let made = metrics.duration(service: service)
            durations[service] = made
            return made
        }()
        timer.recordNanoseconds(nanoseconds)
    }

    func upstreamAnswered(service: String, nanoseconds: Int64) {
        let timer = upstream[service] ?? {
            let made = metrics.upstreamDuration(service: service)
            upstream[service] = made
            return made
        }()
        timer.recordNanoseconds(nanoseconds)
    }

    func rateLimited(service: String) {
        let counter = limited[service] ?? {
            let made = metrics.rateLimited(service: service)
            limited[service] = made
            return made
        }()
        counter.increment()
    }

    func cacheLookup(service: String, hit: Bool) {
        let pair = cacheResults[service] ?? {
            let made = (hit: metrics.cache(service: service, hit: true), miss: metrics.cache(service: service, hit: false))
            cacheResults[service] = made
            return made
        }()
        (hit ? pair.hit : pair.miss).increment()
    }
}
