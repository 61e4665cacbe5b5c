import BrainDomain
import Foundation

/// A service as the admin API's JSON document, the same shape
/// `ServiceFileLoader.serviceDocument(json:)` reads back — so a document fetched, edited and
/// sent back is understood exactly, and the stores keep services in this form.
public enum ServiceDocumentWriter {
    /// The document as a JSON-compatible dictionary (`status` added by callers that know it).
    public static func dictionary(_ service: ServiceRoute) -> [String: Any] {
        let weighted = service.weights.contains { $0 != 1 }
        let instances: [Any] = service.instances.enumerated().map { index, instance in
            if weighted { return ["url": instance.description, "weight": service.weights[index]] as [String: Any] }
            return instance.description
        }
        var breaker: [String: Any] = [
            "failure_threshold": service.circuitBreaker.failureThreshold,
            "open_seconds": service.circuitBreaker.openSeconds,
            "max_open_seconds": service.circuitBreaker.maxOpenSeconds,
            "half_open_requests": service.circuitBreaker.halfOpenRequests,
            "max_ejection_percent": service.circuitBreaker.maxEjectionPercent,
        ]
        if let statuses = service.circuitBreaker.failureStatuses { breaker["failure_statuses"] = statuses.sorted() }
        var cache: [String: Any] = ["enabled": service.cache.enabled, "max_body_bytes": service.cache.maxBodyBytes]
        if let ttl = service.cache.ttlSeconds { cache["ttl_seconds"] = ttl }
        return [
            "name": service.name.value,
            "instances": instances,
            "base_path": service.basePath.description,
            "health_path": service.healthPath,
            "tenant_id": service.tenant?.value ?? NSNull(),
            "timeout_ms": service.timeoutMilliseconds,
            "rate_limit": ["requests": service.rateLimit.requests, "window_seconds": service.rateLimit.windowSeconds],
            "circuit_breaker": breaker,
            "load_balancing": service.loadBalancing.rawValue,
            "retry": [
                "retries": service.retry.retries, "backoff_ms": service.retry.backoffBaseMilliseconds,
                "max_backoff_ms": service.retry.backoffCapMilliseconds, "budget_percent": service.retry.budgetPercent,
                "budget_min_per_second": service.retry.budgetMinPerSecond,
            ],
            "cache": cache,
            "health_check": [
                "unhealthy_threshold": service.healthCheck.unhealthyThreshold, "healthy_threshold": service.healthCheck.healthyThreshold,
            ],
            "roles": service.defaultRoles,
            "routes": service.routes.map(routeDictionary),
        ]
    }

    public static func routeDictionary(_ route: RouteDefinition) -> [String: Any] {
        ["path": route.pattern.description, "methods": route.methods.map(\.description).sorted(), "roles": route.roles]
    }

    /// Compact JSON with sorted keys (stable, so equal documents are equal text).
    public static func json(_ object: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    public static func json(_ service: ServiceRoute) -> String { json(dictionary(service)) }
}

/// Domain events as the events API shows them: a type name and a JSON `data` object that names
/// the service (and the tenant, instance, statuses… the event carries).
public enum DomainEventEncoding {
    public static func data(_ event: DomainEvent) -> [String: Any] {
        var data: [String: Any] = ["service": event.service.value]
        if let tenant = event.tenant { data["tenant_id"] = tenant.value }
        switch event {
        case .serviceRegistered, .serviceUpdated, .serviceRemoved:
            break
        case .routeRegistered(_, _, let pattern, let methods):
            data["path"] = pattern.description
            data["methods"] = methods.map(\.description)
        case .serviceHealthChanged(_, _, let from, let to):
            data["from"] = from.rawValue
            data["to"] = to.rawValue
        case .circuitOpened(_, _, let instance, let seconds):
            data["instance"] = instance
            data["open_seconds"] = seconds
        case .circuitClosed(_, _, let instance):
            data["instance"] = instance
        case .workflowRegistered(let workflow, _), .workflowUpdated(let workflow, _), .workflowRemoved(let workflow, _):
            data = ["workflow": workflow.value]
            if let tenant = event.tenant { data["tenant_id"] = tenant.value }
        case .integrationActivated(let integration, _), .integrationDeactivated(let integration, _), .integrationNeedsReauth(let integration, _):
            data = ["integration": integration.value]
            if let tenant = event.tenant { data["tenant_id"] = tenant.value }
        case .sharedStateDegraded(let replica, let mode, let reason):
            data = ["replica": replica, "mode": mode, "reason": reason]
        case .sharedStateRestored(let replica):
            data = ["replica": replica]
        case .autonomousDecision(let decision):
            data = autonomousDecision(decision)
        case .workflowRunStarted(let workflow, _, let run):
            data = workflowData(workflow, event.tenant, run)
        case .workflowRunSucceeded(let workflow, _, let run, let milliseconds):
            data = workflowData(workflow, event.tenant, run)
            data["duration_ms"] = milliseconds
        case .workflowRunFailed(let workflow, _, let run, let status, let failedStep):
            data = workflowData(workflow, event.tenant, run)
            data["status"] = status
            data["failed_step"] = failedStep ?? NSNull()
        }
        return data
    }

    /// `{service, rule, evidence: {p95_ms, error_rate, requests}, action, mode, outcome}`, and
    /// the instance and weights of a weight change, the run of a started agent call or workflow.
    public static func autonomousDecision(_ decision: AutonomousDecision) -> [String: Any] {
        var data: [String: Any] = [
            "id": decision.id, "at": decision.at, "service": decision.service.name.value, "rule": decision.rule.rawValue,
            "evidence": [
                "p95_ms": (decision.p95Milliseconds * 10).rounded() / 10, "error_rate": (decision.errorRate * 10_000).rounded() / 10_000,
                "requests": decision.requests,
            ] as [String: Any],
            "action": decision.action.rawValue, "mode": decision.mode.rawValue, "outcome": decision.outcome.name,
        ]
        if let tenant = decision.service.tenant { data["tenant_id"] = tenant.value }
        if let instance = decision.instance { data["instance"] = instance.description }
        if let from = decision.fromWeight { data["from_weight"] = from }
        if let to = decision.toWeight { data["to_weight"] = to }
        switch decision.outcome {
        case .started(let runID): data["run_id"] = runID
        case .failed(let reason): data["error"] = reason
        case .applied, .recorded: break
        }
        return data
    }

    private static func workflowData(_ workflow: ServiceName, _ tenant: TenantID?, _ run: String) -> [String: Any] {
        var data: [String: Any] = ["workflow": workflow.value, "run_id": run]
        if let tenant { data["tenant_id"] = tenant.value }
        return data
    }

    /// The stored `data` text. Written without Foundation's serializer: a workflow run stores
    /// two events, so this is on the run's path.
    public static func json(_ event: DomainEvent) -> String { value(data(event)).json }

    private static func value(_ any: Any) -> JSONValue {
        switch any {
        case let s as String: .string(s)
        case let b as Bool: .bool(b)
        case let i as Int: .number(Double(i))
        case let d as Double: .number(d)
        case let list as [Any]: .array(list.map(value))
        case let object as [String: Any]: .object(object.mapValues(value))
        default: .null
        }
    }

    /// The events API's object for one stored event.
    public static func apiObject(_ event: StoredEvent) -> [String: Any] {
        let data = (try? JSONSerialization.jsonObject(with: Data(event.data.utf8))) ?? [:]
        return [
            "id": event.id, "type": event.type, "occurred_at": iso8601(event.occurredAt),
            "tenant_id": event.tenantID ?? NSNull(), "data": data,
        ]
    }

    public static func iso8601(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}
