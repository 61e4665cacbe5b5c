import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import Hummingbird

/// The optimiser's API (platform-admin): `GET /api/brain/optimizer` (mode, paused, each
/// service's latest window and incidents, the recent decisions), `POST
/// /api/brain/optimizer/pause|resume`, and `POST /api/brain/optimize-platform`, one analysis
/// now answering its decisions.
struct OptimiserController<Context: CallerRequestContext>: Sendable {
    let optimiser: Optimiser
    let authentication: Authentication

    func addRoutes(to router: Router<Context>) {
        let admin = router.group().add(middleware: PlatformAdminAuthorization<Context>(authentication: authentication))
        admin.get("/api/brain/optimizer") { _, _ in await statusResponse() }
        admin.post("/api/brain/optimizer/pause") { _, _ in
            await optimiser.pause()
            return await statusResponse()
        }
        admin.post("/api/brain/optimizer/resume") { _, _ in
            await optimiser.resume()
            return await statusResponse()
        }
        admin.post("/api/brain/optimize-platform") { _, _ in
            guard optimiser.settings.mode != .off else {
                throw AdminError.conflict("the optimiser is off (optimizer.mode: off)")
            }
            let decisions = await optimiser.analyse()
            return JSONResponse.raw(ServiceDocumentWriter.json(["decisions": decisions.map(DomainEventEncoding.autonomousDecision)]))
        }
    }

    private func statusResponse() async -> Response {
        JSONResponse.raw(ServiceDocumentWriter.json(Self.dictionary(await optimiser.status())))
    }

    /// A service's key in `services`: its name, or `tenant/name` for a tenant's own service.
    static func serviceKey(_ key: ServiceKey) -> String {
        key.tenant.map { "\($0.value)/\(key.name.value)" } ?? key.name.value
    }

    static func dictionary(_ status: Optimiser.Status) -> [String: Any] {
        var services: [String: Any] = [:]
        for (key, service) in status.services {
            let evidence = service.evidence
            var instances: [String: Any] = [:]
            for instance in evidence.instances {
                var entry: [String: Any] = [
                    "requests": instance.requests, "errors": instance.errors,
                    // No successful answer: no latency to show (its failures are not fast answers).
                    "p95_ms": instance.requests > instance.errors ? rounded(instance.p95Milliseconds) : NSNull(),
                    "weight": instance.currentWeight, "configured_weight": instance.configuredWeight,
                ]
                if let simulated = service.dryRunWeights[instance.instance] { entry["dry_run_weight"] = simulated }
                instances[instance.instance.description] = entry
            }
            var entry: [String: Any] = [
                "requests": evidence.requests, "errors": evidence.errors, "error_rate": (evidence.errorRate * 10_000).rounded() / 10_000,
                "p95_ms": rounded(evidence.p95Milliseconds), "mean_ms": rounded(evidence.meanMilliseconds), "instances": instances,
                "incidents": ["optimize": service.latencyIncident, "self_heal": service.errorIncident],
                "weight_scale": service.weightScale,
            ]
            if let tenant = key.tenant { entry["tenant_id"] = tenant.value }
            services[serviceKey(key)] = entry
        }
        var document: [String: Any] = [
            "mode": status.mode.rawValue, "paused": status.paused, "interval_seconds": status.intervalSeconds,
            "window_seconds": status.windowSeconds, "services": services,
            "decisions": status.decisions.map(DomainEventEncoding.autonomousDecision),
        ]
        document["last_analysis_at"] = status.lastAnalysisAt ?? NSNull()
        return document
    }

    private static func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
}

/// The optimiser's agent calls and self-healing runs, started on the workflow engine: an agent
/// call is the same one-step run as `POST /api/brain/agents/{name}/{action}`, the self-healing
/// workflow the catalogue's (the service's tenant's, else the platform's). Neither is awaited:
/// the run records the answer.
struct EngineOptimiserRuns: OptimiserRuns {
    let engine: WorkflowEngine
    let catalog: WorkflowCatalog

    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    func callAgent(_ name: String, action: String, input: JSONValue, tenant: TenantID?) async throws -> String {
        let (definition, document) = try AgentCall.definition(agent: name, action: action, settings: engine.agents.settings)
        return try await start(definition, input: input, tenant: tenant, document: document)
    }

    func runWorkflow(_ name: String, input: JSONValue, tenant: TenantID?) async throws -> String {
        guard let workflowName = try? ServiceName(name),
              let definition = catalog.definition(named: workflowName, for: tenant) ?? catalog.definition(named: workflowName, for: nil)
        else { throw Unavailable(description: "no workflow named '\(name)' is defined") }
        return try await start(definition, input: input, tenant: tenant, document: nil)
    }

    private func start(_ definition: WorkflowDefinition, input: JSONValue, tenant: TenantID?, document: String?) async throws -> String {
        let started = try await engine.start(
            definition, id: UUID().uuidString.lowercased(), input: input, principal: nil, tenant: tenant, traceparent: nil,
            idempotency: nil, adHocDefinition: document)
        guard case .new(let id, _) = started else { throw Unavailable(description: "the run could not be started") }
        return id
    }
}
