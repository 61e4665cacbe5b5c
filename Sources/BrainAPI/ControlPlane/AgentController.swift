import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import Synchronization

/// AI agents: `POST /api/brain/agents/{name}/{action}` runs an agent (or an integration's crew,
/// by tier) on the agents service as the caller; `GET /api/brain/agents` shows the tiers and the
/// agents service's catalogue. Every call is a one-step run of the engine — the same retries,
/// deadline, metrics and storage as a workflow step, and visible at `/api/brain/runs/{id}`.
struct AgentController<Context: CallerRequestContext>: Sendable {
    let engine: WorkflowEngine
    let caller: any WorkflowStepCaller
    let authentication: Authentication
    let cache = CatalogueCache()

    func addRoutes(to router: Router<Context>) {
        router.post("/api/brain/agents/:name/:action") { request, context in
            let principal = try await ControlPlaneCaller.principal(request, authentication: authentication)
            let tenant = try WorkflowRunsController<Context>.tenant(of: principal, request)
            let name = context.parameters.get("name") ?? ""
            let action = context.parameters.get("action") ?? ""
            guard AgentRouter.isAgentName(name) else { throw AdminError.invalid("name", "must match [a-z][a-z0-9_-]* (at most 63 characters)") }
            guard Self.isAction(action) else { throw AdminError.invalid("action", "must be 1-64 letters, digits, '_', '-' or '.'") }
            return try await run(name: name, action: action, request: request, principal: principal, tenant: tenant)
        }
        router.get("/api/brain/agents") { request, _ in
            let principal = try await ControlPlaneCaller.principal(request, authentication: authentication)
            let tenant = try WorkflowRunsController<Context>.tenant(of: principal, request)
            var tiers: [String: JSONValue] = [:]
            for pattern in AgentSettings.Pattern.allCases where pattern != .singleAgent {
                tiers[pattern.rawValue] = .array((engine.agents.settings.tiers[pattern] ?? []).map { .string($0) })
            }
            var body: [String: JSONValue] = ["tiers": .object(tiers)]
            switch await catalogue(for: principal, tenant: tenant) {
            case .success(let agents): body["agents"] = agents
            case .failure(let reason):
                body["agents"] = .array([])
                body["catalog_error"] = .string(reason.reason)
            }
            return JSONResponse.raw(JSONValue.object(body).json)
        }
    }

    /// A one-step run of the agent; its answer relayed with its status (sync) or 202 (async).
    private func run(name: String, action: String, request: Request, principal: Principal, tenant: TenantID) async throws -> Response {
        let settings = engine.agents.settings
        let data = try await WorkflowRunsController<Context>.jsonBody(request, what: "the agent's data").value
        let (definition, document): (WorkflowDefinition, String)
        do {
            (definition, document) = try AgentCall.definition(agent: name, action: action, settings: settings)
        } catch {
            throw AdminError.invalid(error.field, error.reason)
        }
        let requestID = WorkflowRunsController<Context>.requestID(request)
        let started = try await engine.start(
            definition, id: UUID().uuidString.lowercased(), input: data, principal: principal, tenant: tenant, traceparent: WorkflowRunsController<Context>.traceparent(request),
            idempotency: nil, adHocDefinition: document)
        guard case .new(let id, let finished) = started else { throw AdminError.conflict("the run could not be started") }
        let pattern = engine.agents.pattern(for: name).rawValue
        if WorkflowRunsController<Context>.prefersAsync(request) {
            var response = WorkflowRunsController<Context>.accepted(id)
            response.headers[.brainAgentPattern] = pattern
            return response
        }
        let run = await finished.value
        let step = run.steps.first
        var response: Response
        if let status = step?.status, step?.state == .succeeded || run.status == .failed {
            // The agents service answered: its status and body are the answer.
            response = JSONResponse.raw((step?.body ?? .null).json, status: .init(code: status))
        } else if run.status == .timedOut || step?.error?.hasPrefix("no answer within") == true {
            response = Self.error(.gatewayTimeout, "gateway_timeout", "the agents service did not answer within \(settings.timeoutMilliseconds) ms", requestID)
        } else {
            response = Self.error(.badGateway, "bad_gateway", "the agents service could not be reached: \(step?.error ?? "no answer")", requestID)
        }
        response.headers[.brainRunID] = id
        response.headers[.brainAgentPattern] = pattern
        response.headers[.requestID] = requestID
        return response
    }

    private static func error(_ status: HTTPResponse.Status, _ code: String, _ detail: String, _ requestID: String) -> Response {
        JSONResponse.raw(
            JSONValue.object(["error": .string(code), "detail": .string(detail), "request_id": .string(requestID)]).json, status: status)
    }

    static var runName: ServiceName { AgentCall.runName }

    static func isAction(_ action: String) -> Bool {
        !action.isEmpty && action.utf8.count <= 64
            && action.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }
    }

    /// The agents service's catalogue for `tenant`, fetched as the caller and kept 60 s.
    private func catalogue(for principal: Principal, tenant: TenantID) async -> Result<JSONValue, CatalogueUnavailable> {
        let now = Date().timeIntervalSince1970
        if let cached = cache.get(tenant: tenant, now: now) { return .success(cached) }
        let settings = engine.agents.settings
        let request = StepRequest(
            service: settings.service, method: .get, path: settings.catalogPath, body: nil, principal: principal, tenant: tenant,
            idempotencyKey: "catalog:\(UUID().uuidString.lowercased())", workflow: Self.runName, runID: "", traceparent: nil, timeoutSeconds: 5)
        switch await caller.call(request) {
        case .success(let response) where (200...299).contains(response.status):
            guard let value = try? JSONParser.parse(response.body) else { return .failure(CatalogueUnavailable(reason: "the agents service's catalogue is not JSON")) }
            // `[...]` or `{"agents": [...]}`.
            let agents: JSONValue = if case .array = value { value } else { value["agents"] }
            guard case .array = agents else { return .failure(CatalogueUnavailable(reason: "the agents service's catalogue has no list of agents")) }
            cache.set(agents, tenant: tenant, now: now)
            return .success(agents)
        case .success(let response):
            return .failure(CatalogueUnavailable(reason: "the agents service answered \(response.status)"))
        case .failure(.refused(let status, _, _)):
            return .failure(CatalogueUnavailable(reason: "the gateway refused the call (\(status))"))
        case .failure(.unreachable(let reason)), .failure(.failed(let reason)):
            return .failure(CatalogueUnavailable(reason: reason))
        case .failure(.cancelled):
            return .failure(CatalogueUnavailable(reason: "cancelled"))
        }
    }
}

/// An agent call as a one-step run: its definition, and the same as a document kept with the
/// run so a restart resumes it. The data is the run's input, never read as templates.
enum AgentCall {
    /// The name agent runs are stored under (`GET /api/brain/runs?workflow=agent-call`).
    static var runName: ServiceName { (try? ServiceName("agent-call")) ?? .aiAgents }

    static func definition(agent: String, action: String, settings: AgentSettings) throws(ConfigurationError) -> (WorkflowDefinition, String) {
        let document = JSONValue.object([
            "name": .string(runName.value), "timeout_ms": .number(Double(settings.timeoutMilliseconds)),
            "steps": .array([.object([
                "id": .string("agent"), "agent": .string(agent), "action": .string(action), "with": .string("{{ input }}"),
                "timeout_ms": .number(Double(settings.timeoutMilliseconds)),
                "retry": .object(["attempts": .number(Double(settings.retryAttempts)), "backoff_ms": .number(100), "max_backoff_ms": .number(2000)]),
            ])]),
        ]).json
        return (try WorkflowDocumentReader().workflowDocument(json: document), document)
    }
}

/// Why the catalogue could not be read (shown as `catalog_error`).
struct CatalogueUnavailable: Error {
    let reason: String
}

/// The agents service's catalogue per tenant, for 60 seconds.
final class CatalogueCache: Sendable {
    private let entries = Mutex<[TenantID: (value: JSONValue, until: Double)]>([:])

    func get(tenant: TenantID, now: Double) -> JSONValue? {
        entries.withLock { e in
            guard let entry = e[tenant], entry.until > now else { return nil }
            return entry.value
        }
    }

    func set(_ value: JSONValue, tenant: TenantID, now: Double) {
        entries.withLock { e in
            if e.count > 10_000 { e.removeAll() }
            e[tenant] = (value, now + 60)
        }
    }
}
