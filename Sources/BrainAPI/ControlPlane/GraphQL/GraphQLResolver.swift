import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import GraphQL
import Graphiti

/// Who is asking, fixed by the controller before any resolver runs.
struct GraphQLCaller: Sendable {
    let principal: Principal
    /// The tenant a non-admin is confined to; for a platform admin the `X-Tenant-ID` it chose
    /// (nil: every tenant).
    let scope: TenantID?
    var isAdmin: Bool { principal.roles.contains(Principal.platformAdminRole) }
}

/// The GraphQL operations, each a thin translation to the same application services the REST
/// API uses — so validation, storage, events and permissions cannot drift apart.
///
/// Queries need any valid token; what a non-admin sees is confined to its tenant (its own and
/// global services, its own events, its tenant's share of the metrics). Mutations need
/// `platform-admin`.
struct GraphQLResolver: Sendable {
    let administration: RegistryAdministration
    let health: HealthBoard
    let journal: EventJournal
    let traffic: TrafficStates
    let counters: TrafficCounters
    let defaults: ServiceDefaults
    let workflowQueries: GraphQLWorkflows
    let integrationQueries: GraphQLIntegrations

    struct ServiceArguments: Codable, Sendable {
        let name: String
        let tenant_id: String?
    }

    struct EventsArguments: Codable, Sendable {
        let type: String?
        let limit: Int?
        let since: Int?
    }

    struct RegisterServiceArguments: Codable, Sendable {
        let input: ServiceInput
    }

    struct RegisterRouteArguments: Codable, Sendable {
        let service: String
        let tenant_id: String?
        let input: RouteInput
    }

    // MARK: Queries

    func services(context: GraphQLCaller, arguments: NoArguments) -> [ServiceView] {
        view(administration.list(tenant: context.scope))
    }

    func service(context: GraphQLCaller, arguments: ServiceArguments) async throws -> ServiceView? {
        let name = try Self.parse("name") { try ServiceName(arguments.name) }
        var tenant = context.scope
        if let asked = arguments.tenant_id {
            let requested = try Self.parse("tenant_id") { try TenantID(asked) }
            guard context.isAdmin || requested == context.scope else { throw Self.forbidden("a tenant can only read its own services") }
            tenant = requested
        }
        return try await administration.find(name: name, tenant: tenant).map { view([$0.service])[0] }
    }

    func health(context: GraphQLCaller, arguments: NoArguments) -> HealthView {
        let services = administration.list(tenant: context.scope)
        var overall = "healthy"
        var entries: [ServiceHealthView] = []
        for (service, entry) in zip(services, health.snapshot(of: services)) {
            if entry.health.status != .healthy { overall = "degraded" }
            entries.append(ServiceHealthView(
                name: service.name.value, status: entry.health.status.rawValue,
                response_time_ms: entry.health.responseTimeMilliseconds.map { ($0 * 10).rounded() / 10 }))
        }
        return HealthView(status: overall, services: entries)
    }

    func events(context: GraphQLCaller, arguments: EventsArguments) async throws -> [EventView] {
        let limit = arguments.limit ?? 100
        guard (1...1000).contains(limit) else { throw Self.invalid("limit", "must be 1-1000") }
        if let since = arguments.since, since < 0 { throw Self.invalid("since", "must be an event id (a non-negative integer)") }
        let events = try await journal.query(
            type: arguments.type, tenant: context.isAdmin ? context.scope : context.principal.tenant,
            since: arguments.since.map(Int64.init), limit: limit)
        return events.map(EventView.init)
    }

    func metrics(context: GraphQLCaller, arguments: NoArguments) async -> MetricsView {
        let summary = await MetricsSummary.current(traffic: traffic, counters: counters)
        guard !context.isAdmin else { return MetricsView(summary) }
        let visible = Set(administration.list(tenant: context.principal.tenant).map(\.name.value))
        let own = context.principal.tenant.value
        return MetricsView(MetricsSummary(
            totalRequests: summary.totalRequests, perService: summary.perService.filter { visible.contains($0.key) },
            perTenant: summary.perTenant.filter { $0.key == own }, averageMilliseconds: summary.averageMilliseconds,
            circuitBreakerActivations: summary.circuitBreakerActivations, cachedResponses: summary.cachedResponses,
            agentExecutions: summary.agentExecutions, autonomousDecisions: summary.autonomousDecisions))
    }

    // MARK: Workflows (see `GraphQLWorkflows`)

    func workflows(context: GraphQLCaller, arguments: NoArguments) async throws -> [WorkflowView] {
        try await workflowQueries.workflows(context: context)
    }

    func runs(context: GraphQLCaller, arguments: GraphQLWorkflows.RunsArguments) async throws -> [RunView] {
        try await workflowQueries.runs(context: context, arguments: arguments)
    }

    func run(context: GraphQLCaller, arguments: GraphQLWorkflows.RunArguments) async throws -> RunView? {
        try await workflowQueries.run(context: context, arguments: arguments)
    }

    func startRun(context: GraphQLCaller, arguments: GraphQLWorkflows.StartRunArguments) async throws -> RunView {
        try await workflowQueries.startRun(context: context, arguments: arguments)
    }

    func integrations(context: GraphQLCaller, arguments: NoArguments) async throws -> [IntegrationView] {
        try await integrationQueries.integrations(context: context)
    }

    func activateIntegration(context: GraphQLCaller, arguments: GraphQLIntegrations.ActivateArguments) async throws -> IntegrationActivationView {
        try await integrationQueries.activate(context: context, arguments: arguments)
    }

    func deactivateIntegration(context: GraphQLCaller, arguments: GraphQLIntegrations.NameArguments) async throws -> Bool {
        try await integrationQueries.deactivate(context: context, arguments: arguments)
    }

    // MARK: Mutations

    func registerService(context: GraphQLCaller, arguments: RegisterServiceArguments) async throws -> ServiceView {
        guard context.isAdmin else { throw Self.forbidden("mutations need the platform-admin role") }
        let service: ServiceRoute
        do {
            service = try ServiceFileLoader().serviceDocument(json: try Self.json(arguments.input), defaults: defaults)
        } catch let error as ConfigurationError {
            throw Self.invalid(error.field, error.reason)
        }
        if let scope = context.scope, service.tenant != scope {
            throw Self.invalid("tenant_id", "the document's tenant_id must match X-Tenant-ID")
        }
        do {
            return view([try await administration.register(service).service])[0]
        } catch RepositoryError.duplicate(let name) {
            throw Self.error("a service named '\(name)' already exists in this tenant", code: "conflict")
        }
    }

    func registerRoute(context: GraphQLCaller, arguments: RegisterRouteArguments) async throws -> ServiceView {
        guard context.isAdmin else { throw Self.forbidden("mutations need the platform-admin role") }
        let name = try Self.parse("service") { try ServiceName(arguments.service) }
        let tenant = try arguments.tenant_id.map { text in try Self.parse("tenant_id") { try TenantID(text) } } ?? context.scope
        let route: RouteDefinition
        do {
            route = try ServiceFileLoader().routeDocument(json: try Self.json(arguments.input))
        } catch let error as ConfigurationError {
            throw Self.invalid("input." + error.field, error.reason)
        }
        do {
            return view([try await administration.addRoute(route, to: name, tenant: tenant, expectedVersion: nil).service])[0]
        } catch RepositoryError.notFound {
            throw Self.error("no service named '\(name)'", code: "not_found", field: "service")
        } catch let error as ServiceRoute.InvariantViolation {
            if case .conflict = error { throw Self.error(error.reason, code: "conflict", field: "input." + error.field) }
            throw Self.invalid("input." + error.field, error.reason)
        }
    }

    // MARK: Helpers

    private func view(_ services: [ServiceRoute]) -> [ServiceView] {
        zip(services, health.snapshot(of: services)).map { ServiceView($0, status: $1.health.status.rawValue) }
    }

    /// The input as the REST document it mirrors (absent fields left out, so defaults apply).
    private static func json<T: Encodable>(_ input: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(input), as: UTF8.self)
    }

    private static func parse<T>(_ field: String, _ make: () throws -> T) throws -> T {
        do { return try make() } catch { throw invalid(field, "\(error)") }
    }

    static func invalid(_ field: String, _ reason: String) -> GraphQLError {
        error("\(field): \(reason)", code: "invalid_request", field: field)
    }

    static func forbidden(_ reason: String) -> GraphQLError { error(reason, code: "forbidden") }

    static func error(_ message: String, code: String, field: String? = nil) -> GraphQLError {
        var extensions: [String: Map] = ["code": .string(code)]
        if let field { extensions["field"] = .string(field) }
        return GraphQLError(message: message, extensions: extensions)
    }
}
