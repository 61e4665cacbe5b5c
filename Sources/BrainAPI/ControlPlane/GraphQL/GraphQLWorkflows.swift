import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import GraphQL
import Graphiti

/// Workflows and runs in GraphQL: queries `workflows`, `runs(workflow:, status:, limit:)`,
/// `run(id:)` and the mutation `startRun(workflow:, input:, idempotency_key:)`. Any valid token;
/// a non-admin sees its tenant's runs only. JSON values (input, output, bodies, the definition)
/// are JSON text, as for events' `data`.
struct GraphQLWorkflows: Sendable {
    let workflows: WorkflowAdministration
    let runs: any WorkflowRunRepository
    let engine: WorkflowEngine

    struct RunsArguments: Codable, Sendable {
        let workflow: String?
        let status: String?
        let limit: Int?
    }

    struct RunArguments: Codable, Sendable {
        let id: String
    }

    struct StartRunArguments: Codable, Sendable {
        let workflow: String
        /// The run's input as JSON text (default `{}`).
        let input: String?
        let idempotency_key: String?
    }

    func workflows(context: GraphQLCaller) async throws -> [WorkflowView] {
        try await workflows.list(tenant: context.isAdmin ? context.scope : context.principal.tenant).map(WorkflowView.init)
    }

    func runs(context: GraphQLCaller, arguments: RunsArguments) async throws -> [RunView] {
        var query = RunQuery(tenant: context.scope ?? context.principal.tenant, allTenants: context.isAdmin && context.scope == nil)
        if let w = arguments.workflow {
            guard let name = try? ServiceName(w) else { throw GraphQLResolver.invalid("workflow", "not a workflow name") }
            query.workflow = name
        }
        if let s = arguments.status {
            guard let status = WorkflowRun.Status(rawValue: s) else { throw GraphQLResolver.invalid("status", "must be running, succeeded, failed or timed_out") }
            query.status = status
        }
        if let limit = arguments.limit {
            guard (1...500).contains(limit) else { throw GraphQLResolver.invalid("limit", "must be 1-500") }
            query.limit = limit
        }
        return try await runs.runs(query).map(RunView.init)
    }

    func run(context: GraphQLCaller, arguments: RunArguments) async throws -> RunView? {
        guard WorkflowRunsController<ControlPlaneContext>.isRunID(arguments.id) else { return nil }
        return try await runs.run(
            id: arguments.id, tenant: context.scope ?? context.principal.tenant, allTenants: context.isAdmin && context.scope == nil
        ).map(RunView.init)
    }

    /// Runs a workflow as the caller and answers when it has finished (or failed).
    func startRun(context: GraphQLCaller, arguments: StartRunArguments) async throws -> RunView {
        let tenant = context.scope ?? context.principal.tenant
        guard let name = try? ServiceName(arguments.workflow), let definition = workflows.catalog.definition(named: name, for: tenant) else {
            throw GraphQLResolver.error("no workflow named '\(arguments.workflow.prefix(64))'", code: "workflow_not_found", field: "workflow")
        }
        let text = arguments.input ?? "{}"
        let input: JSONValue
        do { input = try JSONParser.parse(text) } catch { throw GraphQLResolver.invalid("input", "not valid JSON: \(error.description)") }
        var idempotency: RunIdempotency?
        if let key = arguments.idempotency_key {
            guard !key.isEmpty, key.utf8.count <= 255 else { throw GraphQLResolver.invalid("idempotency_key", "must be 1-255 characters") }
            idempotency = RunIdempotency(key: key, bodyDigest: WorkflowRunsController<ControlPlaneContext>.digest(Array(text.utf8)))
        }
        do {
            switch try await engine.submit(
                definition, input: input, principal: context.principal, tenant: tenant, traceparent: nil, idempotency: idempotency)
            {
            case .replayed(let run): return RunView(run)
            case .started(_, let finished): return RunView(await finished.value)
            }
        } catch let refusal as WorkflowEngine.Refusal {
            switch refusal {
            case .roleMissing(let workflow, let roles):
                throw GraphQLResolver.forbidden("running '\(workflow)' needs one of the roles: \(roles.joined(separator: ", "))")
            case .invalidInput(let field, let reason): throw GraphQLResolver.invalid("input.\(field)", reason)
            case .keyReused:
                throw GraphQLResolver.error("this idempotency_key was used with another input", code: "idempotency_key_reused", field: "idempotency_key")
            case .inProgress(let id):
                throw GraphQLResolver.error("the run \(id) started with this idempotency_key is still running", code: "run_in_progress", field: "idempotency_key")
            }
        }
    }
}

struct WorkflowView: Codable, Sendable {
    let name: String
    let tenant_id: String?
    let version: Int
    let expose_method: String?
    let expose_path: String?
    let roles: [String]
    let timeout_ms: Int
    let steps: [String]
    /// The definition as stored (JSON text).
    let document: String

    init(_ stored: StoredWorkflow) {
        let d = stored.definition
        name = d.name.value
        tenant_id = d.tenant?.value
        version = stored.version
        expose_method = d.interface.expose?.method.description
        expose_path = d.interface.expose?.path
        roles = d.roles
        timeout_ms = d.timeoutMilliseconds
        steps = d.steps.map(\.id)
        document = stored.document.json
    }
}

struct RunStepView: Codable, Sendable {
    let id: String
    let state: String
    let attempts: Int
    let status: Int?
    let started_at: String?
    let finished_at: String?
    let duration_ms: Int?
    let body: String?
    let error: String?
}

struct RunView: Codable, Sendable {
    let id: String
    let workflow: String
    let tenant_id: String?
    let status: String
    let started_at: String
    let finished_at: String?
    let duration_ms: Int?
    let input: String
    let output: String?
    let error: String?
    let failed_step: String?
    let steps: [RunStepView]

    init(_ run: WorkflowRun) {
        id = run.id
        workflow = run.workflow.value
        tenant_id = run.tenant?.value
        status = run.status.rawValue
        started_at = DomainEventEncoding.iso8601(run.startedAt)
        finished_at = run.finishedAt.map(DomainEventEncoding.iso8601)
        duration_ms = run.durationMilliseconds
        input = run.input.json
        output = run.output?.json
        error = run.error
        failed_step = run.failedStep
        steps = run.steps.map { s in
            RunStepView(
                id: s.id, state: s.state.rawValue, attempts: s.attempts, status: s.status, started_at: s.startedAt.map(DomainEventEncoding.iso8601),
                finished_at: s.finishedAt.map(DomainEventEncoding.iso8601), duration_ms: s.durationMilliseconds, body: s.body?.json, error: s.error)
        }
    }
}
