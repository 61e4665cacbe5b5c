/// Health of a service or instance as `/health` reports it.
public enum ServiceStatus: String, Sendable, Codable, Hashable {
    /// The last probe (or request) succeeded.
    case healthy
    /// A probe or request failed, but the instance is still in rotation.
    case degraded
    /// Out of rotation: `health_check.unhealthy_threshold` failed probes in a row, or an open
    /// circuit breaker.
    case down
}
