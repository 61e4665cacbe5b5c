import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import GraphQL
import Graphiti
import Hummingbird
import NIOCore

/// `POST /graphql`: `{"query", "variables", "operationName"}` in, the GraphQL result as JSON
/// out. A missing or invalid token is refused at the HTTP level (401, the gateway's JSON error
/// shape); everything after that — including a mutation by a non-admin — is a
/// GraphQL error inside a 200, as GraphQL clients expect.
struct GraphQLController<Context: RequestContext>: Sendable {
    let api: GatewayGraphQLAPI
    let authentication: Authentication
    var limits = GraphQLQueryLimits()

    static var maxBodyBytes: Int { 1 << 20 }

    func addRoutes(to router: Router<Context>) {
        router.post("/graphql") { request, _ in try await self.execute(request) }
    }

    private func execute(_ request: Request) async throws -> Response {
        let caller = try await authenticate(request)
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maxBodyBytes)
        } catch {
            throw AdminError(status: .contentTooLarge, code: "payload_too_large", detail: "the request exceeds \(Self.maxBodyBytes) bytes")
        }
        let query: GraphQLRequest
        do {
            query = try JSONDecoder().decode(GraphQLRequest.self, from: Data(buffer: body))
        } catch {
            throw AdminError(status: .badRequest, code: "bad_request", detail: "the body must be JSON: {\"query\": …, \"variables\": {…}}")
        }
        guard !query.query.isEmpty else { throw AdminError(status: .badRequest, code: "bad_request", detail: "the query is empty") }
        let result: GraphQLResult
        do {
            try limits.check(query.query)
            result = try await api.execute(request: query, context: caller)
        } catch let error as GraphQLError {
            // A document that does not parse or validate: a GraphQL error, as for any other.
            result = GraphQLResult(errors: [error])
        } catch let errors as GraphQLErrors {
            result = GraphQLResult(errors: errors.errors)
        }
        // GraphQL's own encoder keeps the fields in the order the query asked for them.
        let encoder = GraphQLJSONEncoder()
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(result))))
    }

    private func authenticate(_ request: Request) async throws -> GraphQLCaller {
        let principal = try await ControlPlaneCaller.principal(request, authentication: authentication)
        guard principal.roles.contains(Principal.platformAdminRole) else {
            return GraphQLCaller(principal: principal, scope: principal.tenant)
        }
        let asked = request.headers[.tenantID]
        guard let asked else { return GraphQLCaller(principal: principal, scope: nil) }
        do {
            return GraphQLCaller(principal: principal, scope: try TenantID(asked))
        } catch {
            throw AdminError.invalid("X-Tenant-ID", error.description)
        }
    }
}

/// The schema (Graphiti) over `GraphQLResolver`.
struct GatewayGraphQLAPI: API {
    let resolver: GraphQLResolver
    let schema: Schema<GraphQLResolver, GraphQLCaller>

    init(resolver: GraphQLResolver) throws {
        self.resolver = resolver
        self.schema = try Schema<GraphQLResolver, GraphQLCaller> {
            Type(RouteView.self, as: "Route") {
                Field("path", at: \.path)
                Field("methods", at: \.methods)
                Field("roles", at: \.roles)
            }
            Type(ServiceView.self, as: "Service") {
                Field("name", at: \.name)
                Field("instances", at: \.instances)
                Field("base_path", at: \.base_path)
                Field("health_path", at: \.health_path)
                Field("status", at: \.status)
                Field("tenant_id", at: \.tenant_id)
                Field("timeout_ms", at: \.timeout_ms)
                Field("roles", at: \.roles)
                Field("routes", at: \.routes)
            }
            Type(ServiceHealthView.self, as: "ServiceHealth") {
                Field("name", at: \.name)
                Field("status", at: \.status)
                Field("response_time_ms", at: \.response_time_ms)
            }
            Type(HealthView.self, as: "Health") {
                Field("status", at: \.status)
                Field("services", at: \.services)
            }
            Type(EventView.self, as: "Event") {
                Field("id", at: \.id)
                Field("type", at: \.type)
                Field("occurred_at", at: \.occurred_at)
                Field("tenant_id", at: \.tenant_id)
                Field("service", at: \.service)
                Field("data", at: \.data)
            }
            Type(CountView.self, as: "Count") {
                Field("key", at: \.key)
                Field("count", at: \.count)
            }
            Type(MetricsView.self, as: "Metrics") {
                Field("total_requests", at: \.total_requests)
                Field("requests_per_service", at: \.requests_per_service)
                Field("ai_agent_executions", at: \.ai_agent_executions)
                Field("autonomous_decisions", at: \.autonomous_decisions)
                Field("average_response_time", at: \.average_response_time)
                Field("circuit_breaker_activations", at: \.circuit_breaker_activations)
                Field("cached_responses", at: \.cached_responses)
                Field("tenant_distribution", at: \.tenant_distribution)
            }
            Type(WorkflowView.self, as: "Workflow") {
                Field("name", at: \.name)
                Field("tenant_id", at: \.tenant_id)
                Field("version", at: \.version)
                Field("expose_method", at: \.expose_method)
                Field("expose_path", at: \.expose_path)
                Field("roles", at: \.roles)
                Field("timeout_ms", at: \.timeout_ms)
                Field("steps", at: \.steps)
                Field("document", at: \.document)
            }
            Type(RunStepView.self, as: "RunStep") {
                Field("id", at: \.id)
                Field("state", at: \.state)
                Field("attempts", at: \.attempts)
                Field("status", at: \.status)
                Field("started_at", at: \.started_at)
                Field("finished_at", at: \.finished_at)
                Field("duration_ms", at: \.duration_ms)
                Field("body", at: \.body)
                Field("error", at: \.error)
            }
            Type(RunView.self, as: "Run") {
                Field("id", at: \.id)
                Field("workflow", at: \.workflow)
                Field("tenant_id", at: \.tenant_id)
                Field("status", at: \.status)
                Field("started_at", at: \.started_at)
                Field("finished_at", at: \.finished_at)
                Field("duration_ms", at: \.duration_ms)
                Field("input", at: \.input)
                Field("output", at: \.output)
                Field("error", at: \.error)
                Field("failed_step", at: \.failed_step)
                Field("steps", at: \.steps)
            }
            Type(IntegrationView.self, as: "Integration") {
                Field("name", at: \.name)
                Field("category", at: \.category)
                Field("tier", at: \.tier)
                Field("credentials", at: \.credentials)
                Field("status", at: \.status)
            }
            Type(IntegrationActivationView.self, as: "IntegrationActivation") {
                Field("name", at: \.name)
                Field("status", at: \.status)
                Field("credentials", at: \.credentials)
                Field("fingerprint", at: \.fingerprint)
            }
            Input(RateLimitInput.self) {
                InputField("requests", at: \.requests)
                InputField("window_seconds", at: \.window_seconds)
            }
            Input(CircuitBreakerInput.self) {
                InputField("failure_threshold", at: \.failure_threshold)
                InputField("open_seconds", at: \.open_seconds)
            }
            Input(HealthCheckInput.self) {
                InputField("unhealthy_threshold", at: \.unhealthy_threshold)
                InputField("healthy_threshold", at: \.healthy_threshold)
            }
            Input(RouteInput.self) {
                InputField("path", at: \.path)
                InputField("methods", at: \.methods)
                InputField("roles", at: \.roles)
            }
            Input(ServiceInput.self) {
                InputField("name", at: \.name)
                InputField("instances", at: \.instances)
                InputField("base_path", at: \.base_path)
                InputField("health_path", at: \.health_path)
                InputField("tenant_id", at: \.tenant_id)
                InputField("timeout_ms", at: \.timeout_ms)
                InputField("roles", at: \.roles)
                InputField("load_balancing", at: \.load_balancing)
                InputField("rate_limit", at: \.rate_limit)
                InputField("circuit_breaker", at: \.circuit_breaker)
                InputField("health_check", at: \.health_check)
                InputField("routes", at: \.routes)
            }
            Query {
                Field("services", at: GraphQLResolver.services)
                Field("service", at: GraphQLResolver.service) {
                    Argument("name", at: \.name)
                    Argument("tenant_id", at: \.tenant_id)
                }
                Field("health", at: GraphQLResolver.health)
                Field("events", at: GraphQLResolver.events) {
                    Argument("type", at: \.type)
                    Argument("limit", at: \.limit)
                    Argument("since", at: \.since)
                }
                Field("metrics", at: GraphQLResolver.metrics)
                Field("workflows", at: GraphQLResolver.workflows)
                Field("runs", at: GraphQLResolver.runs) {
                    Argument("workflow", at: \.workflow)
                    Argument("status", at: \.status)
                    Argument("limit", at: \.limit)
                }
                Field("run", at: GraphQLResolver.run) {
                    Argument("id", at: \.id)
                }
                Field("integrations", at: GraphQLResolver.integrations)
            }
            Mutation {
                Field("registerService", at: GraphQLResolver.registerService) {
                    Argument("input", at: \.input)
                }
                Field("registerRoute", at: GraphQLResolver.registerRoute) {
                    Argument("service", at: \.service)
                    Argument("tenant_id", at: \.tenant_id)
                    Argument("input", at: \.input)
                }
                Field("startRun", at: GraphQLResolver.startRun) {
                    Argument("workflow", at: \.workflow)
                    Argument("input", at: \.input)
                    Argument("idempotency_key", at: \.idempotency_key)
                }
                Field("activateIntegration", at: GraphQLResolver.activateIntegration) {
                    Argument("name", at: \.name)
                    Argument("credentials", at: \.credentials)
                    Argument("base_url", at: \.base_url)
                }
                Field("deactivateIntegration", at: GraphQLResolver.deactivateIntegration) {
                    Argument("name", at: \.name)
                }
            }
        }
    }
}
