import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import Hummingbird
import NIOCore

/// The admin REST API (design.md "Admin API", role platform-admin): services and routes CRUD
/// with `ETag`/`If-Match`, the event log (query and Server-Sent Events), detailed health and
/// the metrics summary. It only translates HTTP to `RegistryAdministration` and back.
///
/// Scope: a service is addressed within a tenant — `X-Tenant-ID` (or `?tenant_id=`) names it;
/// without one, the global service of that name. Listing without a tenant shows every service.
struct AdminController<Context: RequestContext>: Sendable {
    let administration: RegistryAdministration
    let journal: EventJournal
    let health: HealthBoard
    let breakers: BreakerBoard
    let counters: TrafficCounters
    let metrics: TrafficStates
    let defaults: ServiceDefaults
    let verifier: TokenVerifier

    static var maxBodyBytes: Int { 1 << 20 }

    /// Registers exactly `AdminOperations.all`, so the list the OpenAPI test checks is the list
    /// that is served.
    func addRoutes(to router: Router<Context>) {
        for operation in AdminOperations.all {
            guard let method = HTTPRequest.Method(operation.method) else { continue }
            let path = operation.path.replacingOccurrences(of: "{name}", with: ":name")
            router.on(RouterPath(path), method: method) { request, context in
                try await self.handle(operation, request, context)
            }
        }
    }

    private func handle(_ operation: AdminOperations.Operation, _ request: Request, _ context: Context) async throws -> Response {
        switch (operation.method, operation.path) {
        case ("GET", "/api/brain/services"): try await listServices(request)
        case ("POST", "/api/brain/services"): try await createService(request, context)
        case ("GET", "/api/brain/services/{name}"): try await getService(request, context)
        case ("PUT", "/api/brain/services/{name}"): try await replaceService(request, context)
        case ("DELETE", "/api/brain/services/{name}"): try await deleteService(request, context)
        case ("POST", "/api/brain/services/{name}/routes"): try await addRoute(request, context)
        case ("GET", "/api/brain/events"): try await listEvents(request)
        case ("GET", "/api/brain/events/stream"): try await streamEvents(request)
        case ("GET", "/ws/events"): try await eventSocket(request)
        case ("GET", "/api/brain/health"): try detailedHealth(request)
        case ("GET", "/api/brain/metrics"): try await metricsSummary(request)
        default: throw AdminError(status: .internalServerError, code: "internal_error", detail: "no handler for \(operation.method) \(operation.path)")
        }
    }

    // MARK: Authorisation

    /// Every admin endpoint needs a valid token with `platform-admin`. Where a browser cannot
    /// set headers (the event stream) `?access_token=` is accepted too; the access log never
    /// records query strings.
    @discardableResult
    private func requireAdmin(_ request: Request, allowQueryToken: Bool = false) throws -> Principal {
        let principal = try ControlPlaneCaller.principal(request, verifier: verifier, allowQueryToken: allowQueryToken)
        guard principal.roles.contains(Principal.platformAdminRole) else { throw AdminError.forbidden("the admin API needs the platform-admin role") }
        return principal
    }

    /// The tenant a request acts for: `X-Tenant-ID` or `?tenant_id=`; nil = global.
    private func scope(_ request: Request) throws -> TenantID? {
        let text = request.headers[.init("X-Tenant-ID")!] ?? request.uri.queryParameters["tenant_id"].map(String.init)
        guard let text, !text.isEmpty else { return nil }
        do { return try TenantID(text) } catch { throw AdminError.invalid("tenant_id", error.description) }
    }

    private func serviceName(_ context: Context) throws -> ServiceName {
        let text = context.parameters.get("name") ?? ""
        do { return try ServiceName(text) } catch { throw AdminError.notFound("no service named '\(JSONText.truncate(Substring(text)))'") }
    }

    /// `If-Match: "<version>"` → the version; `*` or absent → nil (no precondition).
    private func expectedVersion(_ request: Request) throws -> Int? {
        guard let value = request.headers[.ifMatch]?.trimmingCharacters(in: .whitespaces), value != "*" else { return nil }
        let bare = value.hasPrefix("W/") ? String(value.dropFirst(2)) : value
        guard bare.count >= 3, bare.first == "\"", bare.last == "\"", let version = Int(bare.dropFirst().dropLast()) else {
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

    private func parseService(_ request: Request) async throws -> ServiceRoute {
        let text = try await body(request)
        do {
            return try ServiceFileLoader().serviceDocument(json: text, defaults: defaults)
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
        try requireAdmin(request)
        let services = administration.list(tenant: try scope(request)).map(document)
        return JSONResponse.raw(ServiceDocumentWriter.json(["services": services]))
    }

    private func createService(_ request: Request, _ context: Context) async throws -> Response {
        try requireAdmin(request)
        let service = try await parseService(request)
        if let tenant = try scope(request), service.tenant != tenant {
            throw AdminError.invalid("tenant_id", "the document's tenant_id must match X-Tenant-ID")
        }
        do {
            return respond(try await administration.register(service), status: .created)
        } catch RepositoryError.duplicate(let name) {
            throw AdminError.conflict("a service named '\(name)' already exists in this tenant")
        }
    }

    private func getService(_ request: Request, _ context: Context) async throws -> Response {
        try requireAdmin(request)
        let name = try serviceName(context)
        guard let stored = try await administration.find(name: name, tenant: try scope(request)) else {
            throw AdminError.notFound("no service named '\(name)'")
        }
        return respond(stored, status: .ok)
    }

    private func replaceService(_ request: Request, _ context: Context) async throws -> Response {
        try requireAdmin(request)
        let name = try serviceName(context)
        let tenant = try scope(request)
        let expected = try expectedVersion(request)
        let service = try await parseService(request)
        guard service.name == name else { throw AdminError.invalid("name", "must be '\(name)', the service addressed") }
        guard service.tenant == tenant else { throw AdminError.invalid("tenant_id", "a service cannot move between tenants (the addressed tenant is \(tenant?.value ?? "global"))") }
        do {
            return respond(try await administration.replace(service, expectedVersion: expected), status: .ok)
        } catch let error as RepositoryError {
            throw Self.translate(error)
        }
    }

    private func deleteService(_ request: Request, _ context: Context) async throws -> Response {
        try requireAdmin(request)
        let name = try serviceName(context)
        do {
            try await administration.remove(name: name, tenant: try scope(request), expectedVersion: try expectedVersion(request))
        } catch let error as RepositoryError {
            throw Self.translate(error)
        }
        return Response(status: .noContent)
    }

    private func addRoute(_ request: Request, _ context: Context) async throws -> Response {
        try requireAdmin(request)
        let name = try serviceName(context)
        let text = try await body(request)
        let route: RouteDefinition
        do {
            route = try ServiceFileLoader().routeDocument(json: text)
        } catch {
            throw AdminError.invalid(error.field, error.reason)
        }
        do {
            let stored = try await administration.addRoute(route, to: name, tenant: try scope(request), expectedVersion: try expectedVersion(request))
            return respond(stored, status: .created)
        } catch let error as RepositoryError {
            throw Self.translate(error)
        } catch let error as ServiceRoute.InvariantViolation {
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

    // MARK: Events

    private func eventFilter(_ request: Request) throws -> EventFilter {
        let query = request.uri.queryParameters
        var filter = EventFilter()
        if let type = query["type"], !type.isEmpty { filter.type = String(type) }
        if let tenant = query["tenant_id"], !tenant.isEmpty {
            do { filter.tenant = try TenantID(String(tenant)) } catch { throw AdminError.invalid("tenant_id", error.description) }
        }
        if let since = query["since"], !since.isEmpty {
            guard let id = Int64(String(since)), id >= 0 else { throw AdminError.invalid("since", "must be an event id (a non-negative integer)") }
            filter.since = id
        }
        if let limit = query["limit"], !limit.isEmpty {
            guard let n = Int(String(limit)), (1...1000).contains(n) else { throw AdminError.invalid("limit", "must be 1-1000") }
            filter.limit = n
        }
        return filter
    }

    private func listEvents(_ request: Request) async throws -> Response {
        try requireAdmin(request)
        let filter = try eventFilter(request)
        let events = try await journal.query(type: filter.type, tenant: filter.tenant, since: filter.since, limit: filter.limit)
        return JSONResponse.raw(ServiceDocumentWriter.json(["events": events.map(DomainEventEncoding.apiObject)]))
    }

    /// Server-Sent Events: `?since=<id>` replays stored events after that id first; then every
    /// new event as it is stored. Each message: `id`, `event` (the type) and `data` (the events
    /// API's object). A comment line every 15 s keeps proxies from closing an idle stream. When
    /// the token expires, a `token_expired` message ends the stream.
    private func streamEvents(_ request: Request) async throws -> Response {
        let caller = try requireAdmin(request, allowQueryToken: true)
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
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .init("X-Accel-Buffering")!: "no"],
            body: body)
    }

    /// `/ws/events`: the same feed as the SSE stream over a WebSocket (RFC 6455), one JSON text
    /// frame per event, a ping every 15 s. The handshake is answered here; the data plane sees the
    /// `101` go out and puts `EventSocketFrames` in front of the connection for what the client
    /// sends (pings, close). When the gateway stops, the socket closes with 1001 (going away);
    /// when the token expires, with 1008 (policy violation) and the reason `token expired`.
    private func eventSocket(_ request: Request) async throws -> Response {
        let caller = try requireAdmin(request, allowQueryToken: true)
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
        try requireAdmin(request)
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

    /// The seed's eight fields (design.md "Health and metrics").
    private func metricsSummary(_ request: Request) async throws -> Response {
        try requireAdmin(request)
        let summary = await MetricsSummary.current(traffic: metrics, counters: counters).dictionary
        return JSONResponse.raw(ServiceDocumentWriter.json(summary))
    }
}

/// The admin API's operations (method, OpenAPI path). `AdminController` registers these and
/// nothing else; `OpenAPITests` checks each is documented in `/openapi.json` and served.
public enum AdminOperations {
    public struct Operation: Sendable, Hashable {
        public let method: String
        public let path: String
    }

    public static let all: [Operation] = [
        .init(method: "GET", path: "/api/brain/services"),
        .init(method: "POST", path: "/api/brain/services"),
        .init(method: "GET", path: "/api/brain/services/{name}"),
        .init(method: "PUT", path: "/api/brain/services/{name}"),
        .init(method: "DELETE", path: "/api/brain/services/{name}"),
        .init(method: "POST", path: "/api/brain/services/{name}/routes"),
        .init(method: "GET", path: "/api/brain/events"),
        .init(method: "GET", path: "/api/brain/events/stream"),
        .init(method: "GET", path: "/ws/events"),
        .init(method: "GET", path: "/api/brain/health"),
        .init(method: "GET", path: "/api/brain/metrics"),
    ]
}
