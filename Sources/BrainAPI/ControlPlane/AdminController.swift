import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import Hummingbird
import NIOCore

/// The admin REST API (role platform-admin): services and routes CRUD with `ETag`/`If-Match`,
/// the event log (query, Server-Sent Events, WebSocket), detailed health and the metrics
/// summary. It only translates HTTP to `RegistryAdministration` and back.
///
/// Every operation is registered from `AdminOperation` behind one `PlatformAdminAuthorization`
/// middleware; each handler finds the verified caller in its context.
///
/// Scope: a service is addressed within a tenant — `X-Tenant-ID` (or `?tenant_id=`) names it;
/// without one, the global service of that name. Listing without a tenant shows every service.
struct AdminController<Context: CallerRequestContext>: Sendable {
    let administration: RegistryAdministration
    let journal: EventJournal
    let health: HealthBoard
    let breakers: BreakerBoard
    let counters: TrafficCounters
    let metrics: TrafficStates
    let defaults: ServiceDefaults
    let authentication: Authentication
    let workflows: WorkflowAdministration

    static var maxBodyBytes: Int { 1 << 20 }

    /// Registers exactly `AdminOperation.allCases`, so the list the OpenAPI test checks is the
    /// list that is served, each behind the platform-admin check.
    func addRoutes(to router: Router<Context>) {
        let admin = router.group().add(middleware: PlatformAdminAuthorization<Context>(authentication: authentication))
        for operation in AdminOperation.allCases {
            let path = operation.path.replacingOccurrences(of: "{name}", with: ":name")
            admin.on(RouterPath(path), method: operation.method) { request, context in
                try await self.handle(operation, request, context)
            }
        }
    }

    private func handle(_ operation: AdminOperation, _ request: Request, _ context: Context) async throws -> Response {
        guard let caller = context.caller else { throw AdminError.unauthenticated("a bearer token is required") }
        switch operation {
        case .listServices: return try await listServices(request)
        case .createService: return try await createService(request, context)
        case .getService: return try await getService(request, context)
        case .replaceService: return try await replaceService(request, context)
        case .deleteService: return try await deleteService(request, context)
        case .addRoute: return try await addRoute(request, context)
        case .listEvents: return try await listEvents(request)
        case .streamEvents: return try await streamEvents(request, caller: caller)
        case .eventSocket: return try await eventSocket(request, caller: caller)
        case .detailedHealth: return try detailedHealth(request)
        case .metricsSummary: return try await metricsSummary(request)
        case .listWorkflows: return try await listWorkflows(request)
        case .createWorkflow: return try await createWorkflow(request)
        case .getWorkflow: return try await getWorkflow(request, context)
        case .replaceWorkflow: return try await replaceWorkflow(request, context)
        case .deleteWorkflow: return try await deleteWorkflow(request, context)
        }
    }

    /// The tenant a request acts for: `X-Tenant-ID` or `?tenant_id=`; nil = global.
    private func scope(_ request: Request) throws -> TenantID? {
        let text = request.headers[.tenantID] ?? request.uri.queryParameters["tenant_id"].map(String.init)
        // Present but empty is a mistake, not "no tenant": a request must not widen its scope
        // to every tenant by sending a blank header.
        guard let text else { return nil }
        do { return try TenantID(text) } catch { throw AdminError.invalid("tenant_id", error.description) }
    }

    private func serviceName(_ context: Context) throws -> ServiceName {
        let text = context.parameters.get("name") ?? ""
        do { return try ServiceName(text) } catch { throw AdminError.notFound("no service named '\(JSONText.truncate(Substring(text)))'") }
    }

    /// `If-Match: "<version>"` → the version; `*` or absent → nil (no precondition). Any other
    /// value names no version this service has, so the condition is false: 412 (RFC 9110 §13.1.1).
    private func expectedVersion(_ request: Request) throws -> Int? {
        guard let value = request.headers[.ifMatch], value != "*" else { return nil }
        let bare = value.hasPrefix("W/") ? value.dropFirst(2) : Substring(value)
        guard bare.count >= 3, bare.first == "\"", bare.last == "\"", bare.dropFirst().dropLast().allSatisfy({ $0.isASCII && $0.isNumber }),
              let version = Int(bare.dropFirst().dropLast())
        else {
            throw AdminError.preconditionFailed("If-Match does not name a version of this service")
        }
        return version
    }

    private func body(_ request: Request) async throws -> String {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: Self.maxBodyBytes)
        } catch {
            throw AdminError(status: .contentTooLarge, code: "payload_too_large", detail: "the document exceeds \(Self.maxBodyBytes) bytes")
        }
        return String(buffer: buffer)
    }

    /// The request's service document; one that leaves `tenant_id` out (or null) belongs to the
    /// tenant the request addresses (`X-Tenant-ID`), as a route or a lookup there would.
    private func parseService(_ request: Request, scope: TenantID?) async throws -> ServiceRoute {
        let text = try await body(request)
        do {
            return try ServiceFileLoader().serviceDocument(json: text, defaults: defaults, tenant: scope)
        } catch {
            throw AdminError.invalid(error.field, error.reason)
        }
    }

    // MARK: Services

    private func document(_ service: ServiceRoute) -> [String: Any] {
        var document = ServiceDocumentWriter.dictionary(service)
        let snapshot = health.snapshot(of: [service])
        document["status"] = snapshot.first?.health.status.rawValue ?? "healthy"
        return document
    }

    private func respond(_ stored: StoredService, status: HTTPResponse.Status) -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .eTag: "\"\(stored.version)\""]
        if status == .created {
            headers[.location] = "/api/brain/services/\(stored.service.name.value)"
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: ServiceDocumentWriter.json(document(stored.service)))))
    }

    private func listServices(_ request: Request) async throws -> Response {
        let services = administration.list(tenant: try scope(request)).map(document)
        return JSONResponse.raw(ServiceDocumentWriter.json(["services": services]))
    }

    private func createService(_ request: Request, _ context: Context) async throws -> Response {
        let scope = try scope(request)
        let service = try await parseService(request, scope: scope)
        if let tenant = scope, service.tenant != tenant {
            throw AdminError.invalid("tenant_id", "the document's tenant_id must match X-Tenant-ID")
        }
        do {
            return respond(try await administration.register(service), status: .created)
        } catch RepositoryError.duplicate(let name) {
            throw AdminError.conflict("a service named '\(name)' already exists in this tenant")
        }
    }

    private func getService(_ request: Request, _ context: Context) async throws -> Response {
        let name = try serviceName(context)
        guard let stored = try await administration.find(name: name, tenant: try scope(request)) else {
            throw AdminError.notFound("no service named '\(name)'")
        }
        return respond(stored, status: .ok)
    }

    private func replaceService(_ request: Request, _ context: Context) async throws -> Response {
        let name = try serviceName(context)
        let addressed = try scope(request)
        let service = try await parseService(request, scope: addressed)
        // Without X-Tenant-ID the document's own tenant_id says which service is replaced.
        let tenant = addressed ?? service.tenant
        let expected = try expectedVersion(request)
        guard service.name == name else { throw AdminError.invalid("name", "must be '\(name)', the service addressed") }
        guard service.tenant == tenant else { throw AdminError.invalid("tenant_id", "a service cannot move between tenants (the addressed tenant is \(tenant?.value ?? "global"))") }
        do {
            return respond(try await administration.replace(service, expectedVersion: expected), status: .ok)
        } catch let error as RepositoryError {
            throw Self.translate(error)
        }
    }

    private func deleteService(_ request: Request, _ context: Context) async throws -> Response {
        let name = try serviceName(context)
        do {
            try await administration.remove(name: name, tenant: try scope(request), expectedVersion: try expectedVersion(request))
        } catch let error as RepositoryError {
            throw Self.translate(error)
        }
        return Response(status: .noContent)
    }

    private func addRoute(_ request: Request, _ context: Context) async throws -> Response {
        let name = try serviceName(context)
        let text = try await body(request)
        let route: RouteDefinition
        do {
            route = try ServiceFileLoader().routeDocument(json: text)
            try ServiceRoute.checkMethods(of: route)
        } catch let error as ConfigurationError {
            throw AdminError.invalid(error.field, error.reason)
        } catch let error as ServiceRoute.InvariantViolation {
            throw AdminError.invalid(error.field, error.reason)
        }
        do {
            let stored = try await administration.addRoute(route, to: name, tenant: try scope(request), expectedVersion: try expectedVersion(request))
            return respond(stored, status: .created)
        } catch let error as RepositoryError {
            throw Self.translate(error)
        } catch let error as ServiceRoute.InvariantViolation {
            if case .conflict = error { throw AdminError.conflict(error.reason) }
            throw AdminError.invalid(error.field, error.reason)
        }
    }

    private static func translate(_ error: RepositoryError) -> AdminError {
        switch error {
        case .notFound(let name): .notFound("no service named '\(name)'")
        case .duplicate(let name): .conflict("a service named '\(name)' already exists in this tenant")
        case .versionConflict(let current):
            AdminError(status: .preconditionFailed, code: "precondition_failed",
                       detail: "the service changed since that ETag (current \"\(current)\")", headers: [.eTag: "\"\(current)\""])
        }
    }

    // MARK: Workflows

    /// The request's workflow document, with `tenant_id` made explicit so the stored document
    /// reads back into the same tenant.
    private func parseWorkflow(_ request: Request, scope: TenantID?) async throws -> WorkflowDocument {
        let text = try await body(request)
        let definition: WorkflowDefinition
        do {
            definition = try WorkflowDocumentReader().workflowDocument(json: text, tenant: scope)
        } catch {
            throw AdminError.invalid(error.field, error.reason)
        }
        guard case .object(var members) = (try? JSONParser.parse(text)) ?? .null else { throw AdminError.invalid("body", "must be a JSON object") }
        members["tenant_id"] = definition.tenant.map { .string($0.value) } ?? .null
        return WorkflowDocument(definition: definition, json: JSONValue.object(members).json)
    }

    private func respond(_ stored: StoredWorkflow, status: HTTPResponse.Status) -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .eTag: "\"\(stored.version)\""]
        if status == .created { headers[.location] = "/api/brain/workflows/\(stored.definition.name.value)" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: Self.workflowView(stored).json)))
    }

    static func workflowView(_ stored: StoredWorkflow) -> JSONValue {
        guard case .object(var members) = (try? JSONParser.parse(stored.document.json)) ?? .null else { return .null }
        members["version"] = .number(Double(stored.version))
        return .object(members)
    }

    private func workflowName(_ context: Context) throws -> ServiceName {
        let text = context.parameters.get("name") ?? ""
        do { return try ServiceName(text) } catch { throw WorkflowRunsController<Context>.workflowNotFound(text) }
    }

    private func listWorkflows(_ request: Request) async throws -> Response {
        let scope = try scope(request)
        let all = try await workflows.list(tenant: scope)
        return JSONResponse.raw(JSONValue.object(["workflows": .array(all.map(Self.workflowView))]).json)
    }

    private func createWorkflow(_ request: Request) async throws -> Response {
        let scope = try scope(request)
        let workflow = try await parseWorkflow(request, scope: scope)
        if let tenant = scope, workflow.definition.tenant != tenant {
            throw AdminError.invalid("tenant_id", "the document's tenant_id must match X-Tenant-ID")
        }
        do {
            return respond(try await workflows.register(workflow), status: .created)
        } catch let error as RepositoryError {
            throw Self.translateWorkflow(error)
        } catch let error as ServiceRoute.InvariantViolation {
            throw AdminError.invalid(error.field, error.reason)
        }
    }

    private func getWorkflow(_ request: Request, _ context: Context) async throws -> Response {
        let name = try workflowName(context)
        guard let stored = try await workflows.find(name: name, tenant: try scope(request)) else {
            throw WorkflowRunsController<Context>.workflowNotFound(name.value)
        }
        return respond(stored, status: .ok)
    }

    private func replaceWorkflow(_ request: Request, _ context: Context) async throws -> Response {
        let name = try workflowName(context)
        let addressed = try scope(request)
        let workflow = try await parseWorkflow(request, scope: addressed)
        let tenant = addressed ?? workflow.definition.tenant
        guard workflow.definition.name == name else { throw AdminError.invalid("name", "must be '\(name)', the workflow addressed") }
        guard workflow.definition.tenant == tenant else {
            throw AdminError.invalid("tenant_id", "a workflow cannot move between tenants (the addressed tenant is \(tenant?.value ?? "global"))")
        }
        do {
            return respond(try await workflows.replace(workflow, expectedVersion: try expectedVersion(request)), status: .ok)
        } catch let error as RepositoryError {
            throw Self.translateWorkflow(error)
        } catch let error as ServiceRoute.InvariantViolation {
            throw AdminError.invalid(error.field, error.reason)
        }
    }

    private func deleteWorkflow(_ request: Request, _ context: Context) async throws -> Response {
        let name = try workflowName(context)
        do {
            try await workflows.remove(name: name, tenant: try scope(request), expectedVersion: try expectedVersion(request))
        } catch let error as RepositoryError {
            throw Self.translateWorkflow(error)
        }
        return Response(status: .noContent)
    }

    private static func translateWorkflow(_ error: RepositoryError) -> AdminError {
        switch error {
        case .notFound(let name): WorkflowRunsController<Context>.workflowNotFound(name)
        case .duplicate(let name): .conflict("a workflow named '\(name)' already exists in this tenant")
        case .versionConflict(let current):
            AdminError(status: .preconditionFailed, code: "precondition_failed",
                       detail: "the workflow changed since that ETag (current \"\(current)\")", headers: [.eTag: "\"\(current)\""])
        }
    }

    // MARK: Events

    private func eventFilter(_ request: Request) throws -> EventFilter {
        let query = request.uri.queryParameters
        var filter = EventFilter()
        if let type = query["type"], !type.isEmpty { filter.type = String(type) }
        if let tenant = query["tenant_id"] {
            do { filter.tenant = try TenantID(String(tenant)) } catch { throw AdminError.invalid("tenant_id", error.description) }
        }
        if let since = query["since"] {
            guard let id = Int64(String(since)), id >= 0 else { throw AdminError.invalid("since", "must be an event id (a non-negative integer)") }
            filter.since = id
        }
        if let limit = query["limit"] {
            guard let n = Int(String(limit)), (1...1000).contains(n) else { throw AdminError.invalid("limit", "must be 1-1000") }
            filter.limit = n
        }
        return filter
    }

    private func listEvents(_ request: Request) async throws -> Response {
        let filter = try eventFilter(request)
        let events = try await journal.query(type: filter.type, tenant: filter.tenant, since: filter.since, limit: filter.limit)
        return JSONResponse.raw(ServiceDocumentWriter.json(["events": events.map(DomainEventEncoding.apiObject)]))
    }

    /// Server-Sent Events: `?since=<id>` replays stored events after that id first; then every
    /// new event as it is stored. Each message: `id`, `event` (the type) and `data` (the events
    /// API's object). A comment line every 15 s keeps proxies from closing an idle stream. When
    /// the token expires, a `token_expired` message ends the stream.
    private func streamEvents(_ request: Request, caller: Principal) async throws -> Response {
        let feed = try await openFeed(try eventFilter(request), expiresAt: caller.expiresAt)
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: ": brain-gateway events\n\n"))
            for await item in feed.items() {
                switch item {
                case .event(let event): try await writer.write(Self.message(event))
                case .keepAlive: try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                case .credentialsExpired: try await writer.write(ByteBuffer(string: "event: token_expired\ndata: {}\n\n"))
                }
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .accelBuffering: "no"],
            body: body)
    }

    /// `/ws/events`: the same feed as the SSE stream over a WebSocket (RFC 6455), one JSON text
    /// frame per event, a ping every 15 s. The handshake is answered here; the data plane sees the
    /// `101` go out and puts `EventSocketFrames` in front of the connection for what the client
    /// sends (pings, close). When the gateway stops, the socket closes with 1001 (going away);
    /// when the token expires, with 1008 (policy violation) and the reason `token expired`.
    private func eventSocket(_ request: Request, caller: Principal) async throws -> Response {
        let accept = try WebSocketHandshake.accept(request.headers)
        let feed = try await openFeed(try eventFilter(request), expiresAt: caller.expiresAt)
        let body = ResponseBody { writer in
            var close = WebSocketFrameBytes.close(code: 1001)
            for await item in feed.items() {
                switch item {
                case .event(let event):
                    let json = ServiceDocumentWriter.json(DomainEventEncoding.apiObject(event))
                    try await writer.write(WebSocketFrameBytes.frame(.text, payload: ByteBuffer(string: json)))
                case .keepAlive:
                    try await writer.write(WebSocketFrameBytes.frame(.ping, payload: ByteBuffer()))
                case .credentialsExpired:
                    close = WebSocketFrameBytes.close(code: 1008, reason: "token expired")
                }
            }
            try await writer.write(close)
            try await writer.finish(nil)
        }
        return Response(
            status: .switchingProtocols,
            headers: [.upgrade: "websocket", .connection: "Upgrade", .secWebSocketAccept: accept],
            body: body)
    }

    /// Subscribes first and replays second, so nothing stored in between is lost (duplicates
    /// are skipped by id).
    private func openFeed(_ filter: EventFilter, expiresAt: Double) async throws -> EventFeed {
        let live = journal.subscribe()
        let replay = filter.since == nil ? [] : try await journal.query(type: filter.type, tenant: filter.tenant, since: filter.since, limit: 1000)
        return EventFeed(filter: filter, replay: replay, live: live, expiresAt: expiresAt)
    }

    static func message(_ event: StoredEvent) -> ByteBuffer {
        ByteBuffer(string: "id: \(event.id)\nevent: \(event.type)\ndata: \(ServiceDocumentWriter.json(DomainEventEncoding.apiObject(event)))\n\n")
    }

    // MARK: Health and metrics

    private func detailedHealth(_ request: Request) throws -> Response {
        let services = administration.list(tenant: try scope(request))
        var out: [[String: Any]] = []
        for (service, entry) in zip(services, health.snapshot(of: services)) {
            let states = breakers.existingBreakers(for: service)?.breakerStates ?? []
            var instances: [[String: Any]] = []
            for (index, instance) in service.instances.enumerated() {
                let h = entry.health.instances[instance.description]
                var item: [String: Any] = [
                    "url": instance.description, "status": h?.status.rawValue ?? "healthy",
                    "response_time_ms": h?.responseTimeMilliseconds ?? NSNull(), "consecutive_failures": h?.consecutiveFailures ?? 0,
                    "breaker": index < states.count ? Self.breakerName(states[index]) : "closed",
                ]
                if let error = h?.lastError { item["last_error"] = error }
                instances.append(item)
            }
            out.append([
                "name": service.name.value, "tenant_id": service.tenant?.value ?? NSNull(), "status": entry.health.status.rawValue,
                "response_time_ms": entry.health.responseTimeMilliseconds ?? NSNull(), "instances": instances,
            ])
        }
        return JSONResponse.raw(ServiceDocumentWriter.json(["services": out]))
    }

    static func breakerName(_ state: CircuitBreaker.State) -> String {
        switch state {
        case .closed: "closed"
        case .open: "open"
        case .halfOpen: "half_open"
        }
    }

    /// The metrics summary's eight fields (README, "Metrics").
    private func metricsSummary(_ request: Request) async throws -> Response {
        let summary = await MetricsSummary.current(traffic: metrics, counters: counters).dictionary
        return JSONResponse.raw(ServiceDocumentWriter.json(summary))
    }
}

/// The admin API's operations: the one routing table. `AdminController` registers these and
/// nothing else (its switch over them is exhaustive); `OpenAPITests` checks each is documented
/// in `/openapi.json` and served.
public enum AdminOperation: String, CaseIterable, Sendable {
    case listServices, createService, getService, replaceService, deleteService, addRoute
    case listEvents, streamEvents, eventSocket, detailedHealth, metricsSummary
    case listWorkflows, createWorkflow, getWorkflow, replaceWorkflow, deleteWorkflow

    public var method: HTTPRequest.Method {
        switch self {
        case .createService, .addRoute, .createWorkflow: .post
        case .replaceService, .replaceWorkflow: .put
        case .deleteService, .deleteWorkflow: .delete
        default: .get
        }
    }

    /// The OpenAPI path (`{name}` for the service name).
    public var path: String {
        switch self {
        case .listServices, .createService: "/api/brain/services"
        case .getService, .replaceService, .deleteService: "/api/brain/services/{name}"
        case .addRoute: "/api/brain/services/{name}/routes"
        case .listEvents: "/api/brain/events"
        case .streamEvents: "/api/brain/events/stream"
        case .eventSocket: "/ws/events"
        case .detailedHealth: "/api/brain/health"
        case .metricsSummary: "/api/brain/metrics"
        case .listWorkflows, .createWorkflow: "/api/brain/workflows"
        case .getWorkflow, .replaceWorkflow, .deleteWorkflow: "/api/brain/workflows/{name}"
        }
    }

    /// Where a browser cannot set headers, `?access_token=` may carry the token instead.
    public var acceptsQueryToken: Bool { self == .streamEvents || self == .eventSocket }

    /// The paths of those operations, for the authorisation middleware.
    public static let queryTokenPaths = Set(allCases.filter(\.acceptsQueryToken).map(\.path))
}
