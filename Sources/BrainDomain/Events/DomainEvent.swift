/// Something that happened to the registry or to a service's health, recorded once and
/// published to whoever listens (event log, live streams, replicas).
public enum DomainEvent: Hashable, Sendable {
    case serviceRegistered(service: ServiceName, tenant: TenantID?)
    case routeRegistered(service: ServiceName, tenant: TenantID?, pattern: RoutePattern, methods: [HttpMethod])
    case serviceHealthChanged(service: ServiceName, tenant: TenantID?, from: ServiceStatus, to: ServiceStatus)
    /// An instance's breaker opened (it is ejected for `seconds`).
    case circuitOpened(service: ServiceName, tenant: TenantID?, instance: String, seconds: Double)
    /// An instance's breaker closed again after successful probes.
    case circuitClosed(service: ServiceName, tenant: TenantID?, instance: String)

    /// The event type name of design.md's events API.
    public var typeName: String {
        switch self {
        case .serviceRegistered: "ServiceRegistered"
        case .routeRegistered: "RouteRegistered"
        case .serviceHealthChanged: "ServiceHealthChanged"
        case .circuitOpened: "CircuitOpened"
        case .circuitClosed: "CircuitClosed"
        }
    }

    public var service: ServiceName {
        switch self {
        case .serviceRegistered(let s, _), .routeRegistered(let s, _, _, _), .serviceHealthChanged(let s, _, _, _),
             .circuitOpened(let s, _, _, _), .circuitClosed(let s, _, _): s
        }
    }
}
