/// Something that happened to the registry or to a service's health, recorded once and
/// published to whoever listens (event log, live streams, replicas).
public enum DomainEvent: Hashable, Sendable {
    case serviceRegistered(service: ServiceName, tenant: TenantID?)
    case routeRegistered(service: ServiceName, tenant: TenantID?, pattern: RoutePattern, methods: [HttpMethod])
    case serviceHealthChanged(service: ServiceName, tenant: TenantID?, from: ServiceStatus, to: ServiceStatus)
    /// A service document was replaced (admin API or YAML seed).
    case serviceUpdated(service: ServiceName, tenant: TenantID?)
    case serviceRemoved(service: ServiceName, tenant: TenantID?)
    /// An instance's breaker opened (it is ejected for `seconds`).
    case circuitOpened(service: ServiceName, tenant: TenantID?, instance: String, seconds: Double)
    /// An instance's breaker closed again after successful probes.
    case circuitClosed(service: ServiceName, tenant: TenantID?, instance: String)
    case workflowRegistered(workflow: ServiceName, tenant: TenantID?)
    case workflowUpdated(workflow: ServiceName, tenant: TenantID?)
    case workflowRemoved(workflow: ServiceName, tenant: TenantID?)
    /// A workflow run began (`tenant` is the caller's).
    case workflowRunStarted(workflow: ServiceName, tenant: TenantID?, run: String)
    case workflowRunSucceeded(workflow: ServiceName, tenant: TenantID?, run: String, milliseconds: Int)
    /// A run failed or timed out (`status` says which), after its compensations.
    case workflowRunFailed(workflow: ServiceName, tenant: TenantID?, run: String, status: String, failedStep: String?)
    /// A tenant's credentials for an integration were stored (never the values).
    case integrationActivated(integration: ServiceName, tenant: TenantID?)
    /// A tenant's credentials for an integration were erased.
    case integrationDeactivated(integration: ServiceName, tenant: TenantID?)
    /// The provider refused to refresh an OAuth token: an administrator must store new credentials.
    case integrationNeedsReauth(integration: ServiceName, tenant: TenantID?)
    /// This replica lost the shared state (Redis down or slower than its timeout) and now
    /// limits requests by itself (`mode`: local, open or closed).
    case sharedStateDegraded(replica: String, mode: String, reason: String)
    /// This replica uses the shared state again.
    case sharedStateRestored(replica: String)
    /// The optimiser decided something about a service (and did it, or only recorded it).
    case autonomousDecision(AutonomousDecision)

    /// The event's type name in the events API.
    public var typeName: String {
        switch self {
        case .serviceRegistered: "ServiceRegistered"
        case .routeRegistered: "RouteRegistered"
        case .serviceHealthChanged: "ServiceHealthChanged"
        case .serviceUpdated: "ServiceUpdated"
        case .serviceRemoved: "ServiceRemoved"
        case .circuitOpened: "CircuitOpened"
        case .circuitClosed: "CircuitClosed"
        case .workflowRegistered: "WorkflowRegistered"
        case .workflowUpdated: "WorkflowUpdated"
        case .workflowRemoved: "WorkflowRemoved"
        case .workflowRunStarted: "WorkflowRunStarted"
        case .workflowRunSucceeded: "WorkflowRunSucceeded"
        case .workflowRunFailed: "WorkflowRunFailed"
        case .integrationActivated: "IntegrationActivated"
        case .integrationDeactivated: "IntegrationDeactivated"
        case .integrationNeedsReauth: "IntegrationNeedsReauth"
        case .sharedStateDegraded: "SharedStateDegraded"
        case .sharedStateRestored: "SharedStateRestored"
        case .autonomousDecision: "AutonomousDecision"
        }
    }

    /// The service the event is about; for a workflow event, the workflow; for an integration
    /// event, the integration.
    public var service: ServiceName {
        switch self {
        case .integrationActivated(let i, _), .integrationDeactivated(let i, _), .integrationNeedsReauth(let i, _): i
        case .sharedStateDegraded, .sharedStateRestored: .sharedState
        case .autonomousDecision(let decision): decision.service.name
        case .workflowRunStarted(let w, _, _), .workflowRunSucceeded(let w, _, _, _), .workflowRunFailed(let w, _, _, _, _),
             .workflowRegistered(let w, _), .workflowUpdated(let w, _), .workflowRemoved(let w, _): w
        case .serviceRegistered(let s, _), .routeRegistered(let s, _, _, _), .serviceHealthChanged(let s, _, _, _),
             .circuitOpened(let s, _, _, _), .circuitClosed(let s, _, _), .serviceUpdated(let s, _), .serviceRemoved(let s, _): s
        }
    }

    public var tenant: TenantID? {
        switch self {
        case .integrationActivated(_, let t), .integrationDeactivated(_, let t), .integrationNeedsReauth(_, let t): t
        case .sharedStateDegraded, .sharedStateRestored: nil
        case .autonomousDecision(let decision): decision.service.tenant
        case .workflowRunStarted(_, let t, _), .workflowRunSucceeded(_, let t, _, _), .workflowRunFailed(_, let t, _, _, _),
             .workflowRegistered(_, let t), .workflowUpdated(_, let t), .workflowRemoved(_, let t): t
        case .serviceRegistered(_, let t), .routeRegistered(_, let t, _, _), .serviceHealthChanged(_, let t, _, _),
             .circuitOpened(_, let t, _, _), .circuitClosed(_, let t, _), .serviceUpdated(_, let t), .serviceRemoved(_, let t): t
        }
    }
}
