/// Health of a service or instance as `/health` reports it.
public enum ServiceStatus: String, Sendable, Codable, Hashable {
    /// The last probe (or request) succeeded.
    case healthy
    /// A probe or request failed, fewer than `failure_threshold` times in a row.
    case degraded
    /// `failure_threshold` consecutive failures.
    case down
}
