import BrainApplication
import BrainDomain
import BrainInfrastructure
import Crypto
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1

/// Starting and reading workflow runs: `POST /api/brain/workflows/{name}/runs`, the workflows'
/// `expose` aliases, `GET /api/brain/runs[/{id}]`. Any valid token may run a workflow its
/// roles allow; a caller sees its tenant's runs, platform-admin every tenant's.
struct WorkflowRunsController<Context: CallerRequestContext>: Sendable {
    let catalog: WorkflowCatalog
    let engine: WorkflowEngine
    let runs: any WorkflowRunRepository
    let authentication: Authentication

    static var maxInputBytes: Int { 1 << 20 }
    /// `Idempotency-Key` values are remembered this long.
    static var idempotencySeconds: Double { 86_400 }

    func addRoutes(to router: Router<Context>) {
        router.post("/api/brain/workflows/:name/runs") { request, context in
            let caller = try await ControlPlaneCaller.principal(request, authentication: authentication)
            let tenant = try Self.tenant(of: caller, request)
            let text = context.parameters.get("name") ?? ""
            guard let name = try? ServiceName(text), let definition = catalog.definition(named: name, for: tenant) else {
                throw Self.workflowNotFound(text)
            }
            return try await run(definition, request: request, caller: caller, tenant: tenant)
        }
        router.get("/api/brain/runs/:id") { request, context in
            let caller = try await ControlPlaneCaller.principal(request, authentication: authentication)
            let tenant = try Self.tenant(of: caller, request)
            let id = context.parameters.get("id") ?? ""
            let explicitTenant = request.headers[.tenantID] != nil
            guard Self.isRunID(id), let run = try await runs.run(id: id, tenant: tenant, allTenants: caller.isPlatformAdmin && !explicitTenant) else {
                throw AdminError(status: .notFound, code: "run_not_found", detail: "no run with this id")
            }
            return JSONResponse.raw(WorkflowRunView.full(run).json)
        }
        router.get("/api/brain/runs") { request, _ in
            let caller = try await ControlPlaneCaller.principal(request, authentication: authentication)
            let tenant = try Self.tenant(of: caller, request)
            let parameters = request.uri.queryParameters
            var query = RunQuery(tenant: tenant, allTenants: caller.isPlatformAdmin && request.headers[.tenantID] == nil)
            if let w = parameters["workflow"] {
                guard let name = try? ServiceName(String(w)) else { throw AdminError.invalid("workflow", "not a workflow name") }
                query.workflow = name
            }
            if let s = parameters["status"] {
                guard let status = WorkflowRun.Status(rawValue: String(s)) else {
                    throw AdminError.invalid("status", "must be one of \(WorkflowRun.Status.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                query.status = status
            }
            if let l = parameters["limit"] {
                guard let limit = Int(String(l)), (1...500).contains(limit) else { throw AdminError.invalid("limit", "must be 1-500") }
                query.limit = limit
            }
            let found = try await runs.runs(query)
            return JSONResponse.raw(JSONValue.object(["runs": .array(found.map(WorkflowRunView.summary))]).json)
        }
    }

    /// Runs a workflow exposed at the request's method and path, if there is one.
    func runExposed(_ request: Request) async throws -> Response? {
        let path = request.uri.path
        guard path.hasPrefix("/api/brain/"), catalog.isExposed(path: path) else { return nil }
        let caller = try await ControlPlaneCaller.principal(request, authentication: authentication)
        let tenant = try Self.tenant(of: caller, request)
        guard let definition = catalog.exposed(method: HttpMethod(request.method.rawValue), path: path, for: tenant) else {
            let methods = catalog.exposedMethods(path: path, for: tenant)
            guard methods.isEmpty else {
                var error = AdminError(status: .methodNotAllowed, code: "method_not_allowed", detail: "method not allowed on this endpoint")
                error.headers[.allow] = methods.map(\.description).sorted().joined(separator: ", ")
                throw error
            }
            return nil
        }
        return try await run(definition, request: request, caller: caller, tenant: tenant)
    }

    // MARK: Running

    private func run(_ definition: WorkflowDefinition, request: Request, caller: Principal, tenant: TenantID) async throws -> Response {
        let requestID = Self.requestID(request)
        let (bytes, input) = try await Self.jsonBody(request, what: "the run input")
        var idempotency: RunIdempotency?
        if let key = request.headers[.idempotencyKey] {
            guard !key.isEmpty, key.utf8.count <= 255, key.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
                throw AdminError.invalid("Idempotency-Key", "must be 1-255 visible ASCII characters")
            }
            idempotency = RunIdempotency(key: key, bodyDigest: Self.digest(bytes))
        }
        let submission: WorkflowEngine.Submission
        do {
            submission = try await engine.submit(
                definition, input: input, principal: caller, tenant: tenant, traceparent: Self.traceparent(request), idempotency: idempotency)
        } catch let refusal as WorkflowEngine.Refusal {
            throw Self.error(refusal)
        }
        switch submission {
        case .replayed(let run):
            var response = Self.answer(for: run, requestID: requestID)
            response.headers[.idempotentReplayed] = "true"
            return response
        case .started(let id, let finished):
            if Self.prefersAsync(request) {
                var response = Self.accepted(id)
                response.headers[.preferenceApplied] = "respond-async"
                return response
            }
            let run = await finished.value
            // Not finished: the gateway is shutting down, and the run resumes at the next start.
            return run.status.isFinished ? Self.answer(for: run, requestID: requestID) : Self.accepted(id)
        }
    }

    static func error(_ refusal: WorkflowEngine.Refusal) -> AdminError {
        switch refusal {
        case .roleMissing(let workflow, let roles):
            return AdminError.forbidden("running '\(workflow)' needs one of the roles: \(roles.joined(separator: ", "))")
        case .invalidInput(let field, let reason):
            return AdminError.invalid(field, reason)
        case .keyReused:
            return AdminError(
                status: .unprocessableContent, code: "idempotency_key_reused", detail: "this Idempotency-Key was used with another request body",
                field: "Idempotency-Key")
        case .inProgress(let runID):
            var error = AdminError(status: .conflict, code: "run_in_progress", detail: "the run started with this Idempotency-Key is still running")
            error.headers[.brainRunID] = runID
            return error
        }
    }

    /// 202 `{"run_id", "status": "running"}` with the run's `Location`.
    static func accepted(_ id: String) -> Response {
        var response = JSONResponse.raw(JSONValue.object(["run_id": .string(id), "status": .string("running")]).json, status: .accepted)
        response.headers[.location] = "/api/brain/runs/\(id)"
        response.headers[.brainRunID] = id
        return response
    }

    /// The run's trace: the caller's `traceparent` continued, or a new trace.
    static func traceparent(_ request: Request) -> String {
        var headers = HTTPHeaders()
        if let incoming = request.headers[.traceparent] { headers.add(name: "traceparent", value: incoming) }
        var random = SystemRandomNumberGenerator()
        return TraceContext.start(from: headers, using: &random).traceparent
    }

    /// A finished run's answer: its response on success; 502 `workflow_failed` or 504
    /// `workflow_timeout` with the steps otherwise.
    static func answer(for run: WorkflowRun, requestID: String) -> Response {
        let status = run.responseStatus ?? (run.status == .succeeded ? 200 : run.status == .timedOut ? 504 : 502)
        let body: JSONValue
        if run.status == .succeeded {
            body = run.output ?? .null
        } else {
            body = .object([
                "error": .string(run.status == .timedOut ? "workflow_timeout" : "workflow_failed"),
                "detail": .string(run.error ?? "the workflow failed"), "request_id": .string(requestID), "run_id": .string(run.id),
                "failed_step": run.failedStep.map { .string($0) } ?? .null, "steps": .array(run.steps.map(WorkflowRunView.step)),
            ])
        }
        var response = JSONResponse.raw(body.json, status: .init(code: status))
        response.headers[.brainRunID] = run.id
        response.headers[.requestID] = requestID
        return response
    }

    /// A request body as JSON, up to 1 MiB (413 beyond); an empty body is `{}`.
    static func jsonBody(_ request: Request, what: String) async throws -> (bytes: [UInt8], value: JSONValue) {
        let bytes: [UInt8]
        do {
            bytes = Array(try await request.body.collect(upTo: maxInputBytes).readableBytesView)
        } catch {
            throw AdminError(status: .contentTooLarge, code: "payload_too_large", detail: "\(what) exceeds \(maxInputBytes) bytes")
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return (bytes, .object([:])) }
        do { return (bytes, try JSONParser.parse(bytes)) } catch { throw AdminError.invalid("body", "not valid JSON: \(error.description)") }
    }

    /// The client's `X-Request-ID` when it is a plain token, else a new one.
    static func requestID(_ request: Request) -> String {
        request.headers[.requestID].flatMap { RequestIdentifier.isAcceptable($0) ? $0 : nil } ?? RequestIdentifier.generate()
    }

    /// What identifies a request body for `Idempotency-Key` (SHA-256, hex).
    static func digest(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    static func prefersAsync(_ request: Request) -> Bool {
        request.headers[values: .prefer].contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "respond-async" }
        }
    }

    static func tenant(of caller: Principal, _ request: Request) throws -> TenantID {
        switch TenantContext.resolve(principal: caller, requestedTenant: request.headers[.tenantID]) {
        case .actFor(let tenant): return tenant
        case .forbidden: throw AdminError.forbidden("X-Tenant-ID names another tenant; only platform-admin may act for other tenants")
        case .invalidHeader: throw AdminError(status: .badRequest, code: "bad_request", detail: "X-Tenant-ID is not a UUID")
        }
    }

    static func workflowNotFound(_ name: String) -> AdminError {
        AdminError(status: .notFound, code: "workflow_not_found", detail: "no workflow named '\(JSONText.truncate(Substring(name)))'")
    }

    static func isRunID(_ id: String) -> Bool {
        id.utf8.count == 36 && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || $0 == 0x2D }
    }
}

/// Runs as the API shows them.
enum WorkflowRunView {
    static func full(_ run: WorkflowRun) -> JSONValue {
        var object = summaryObject(run)
        object["input"] = run.input
        object["output"] = run.output ?? .null
        object["steps"] = .array(run.steps.map(step))
        return .object(object)
    }

    static func summary(_ run: WorkflowRun) -> JSONValue {
        var object = summaryObject(run)
        object["steps"] = .array(run.steps.map { s in
            var view = step(s)
            if case .object(var members) = view {
                members["body"] = nil
                view = .object(members)
            }
            return view
        })
        return .object(object)
    }

    private static func summaryObject(_ run: WorkflowRun) -> [String: JSONValue] {
        [
            "id": .string(run.id), "workflow": .string(run.workflow.value), "tenant_id": run.tenant.map { .string($0.value) } ?? .null,
            "status": .string(run.status.rawValue), "started_at": .string(DomainEventEncoding.iso8601(run.startedAt)),
            "finished_at": run.finishedAt.map { .string(DomainEventEncoding.iso8601($0)) } ?? .null,
            "duration_ms": run.durationMilliseconds.map { .number(Double($0)) } ?? .null,
            "error": run.error.map { .string($0) } ?? .null, "failed_step": run.failedStep.map { .string($0) } ?? .null,
        ]
    }

    static func step(_ step: StepRun) -> JSONValue {
        .object([
            "id": .string(step.id), "state": .string(step.state.rawValue), "attempts": .number(Double(step.attempts)),
            "status": step.status.map { .number(Double($0)) } ?? .null,
            "started_at": step.startedAt.map { .string(DomainEventEncoding.iso8601($0)) } ?? .null,
            "finished_at": step.finishedAt.map { .string(DomainEventEncoding.iso8601($0)) } ?? .null,
            "duration_ms": step.durationMilliseconds.map { .number(Double($0)) } ?? .null, "body": step.body ?? .null,
            "error": step.error.map { .string($0) } ?? .null,
        ])
    }
}

/// Runs the workflow exposed at a request's path (`expose:`), before the router's own routes.
struct WorkflowExposureMiddleware<Context: CallerRequestContext>: RouterMiddleware {
    let controller: WorkflowRunsController<Context>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let response = try await controller.runExposed(request) { return response }
        return try await next(request, context)
    }
}
