import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import Hummingbird

/// `/health`, `/health/live`, `/health/ready`.
///
/// `/health` reports the health monitor's latest results and never probes anything itself, so
/// calling it often costs the backends nothing.
public struct HealthController<Context: RequestContext>: Sendable {
    let registry: ServiceRegistry
    let board: HealthBoard
    let storage: any StorageProbe
    /// Checked by readiness when integration secrets live in Vault: a Vault problem degrades
    /// the gateway (cached secrets still serve) but does not make it unready.
    let vault: VaultSecretStore?
    /// Redis, when replicas share state: degraded (each replica limits alone) but still ready.
    let sharedState: SharedState?

    public init(registry: ServiceRegistry, board: HealthBoard, storage: any StorageProbe, vault: VaultSecretStore? = nil, sharedState: SharedState? = nil) {
        self.registry = registry
        self.board = board
        self.storage = storage
        self.vault = vault
        self.sharedState = sharedState
    }

    public func addRoutes(to router: Router<Context>) {
        router.get("/health") { _, _ in try self.health() }
        router.get("/health/live") { _, _ in try JSONResponse.make(["status": "alive"]) }
        router.get("/health/ready") { _, _ in await self.ready() }
    }

    /// `response_time_ms` is always present: `null` until an instance has answered a probe.
    struct ServiceEntry: Encodable {
        let status: ServiceStatus
        let response_time_ms: Double?
        let instances: [String: InstanceEntry]

        enum CodingKeys: String, CodingKey { case status, response_time_ms, instances }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(status, forKey: .status)
            try c.encode(response_time_ms, forKey: .response_time_ms)
            try c.encode(instances, forKey: .instances)
        }
    }

    struct InstanceEntry: Encodable {
        let status: ServiceStatus
        let response_time_ms: Double?
        let consecutive_failures: Int
        let last_error: String?

        enum CodingKeys: String, CodingKey { case status, response_time_ms, consecutive_failures, last_error }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(status, forKey: .status)
            try c.encode(response_time_ms, forKey: .response_time_ms)
            try c.encode(consecutive_failures, forKey: .consecutive_failures)
            try c.encodeIfPresent(last_error, forKey: .last_error)
        }
    }

    struct Report: Encodable {
        let status: String
        let services: [String: ServiceEntry]
        let timestamp: String
    }

    func health() throws -> Response {
        var services: [String: ServiceEntry] = [:]
        var overall = "healthy"
        for (name, health) in board.snapshot(of: registry.directory.services) {
            if health.status != .healthy { overall = "degraded" }
            services[name] = ServiceEntry(
                status: health.status,
                response_time_ms: health.responseTimeMilliseconds.map { ($0 * 10).rounded() / 10 },
                instances: health.instances.mapValues {
                    InstanceEntry(status: $0.status, response_time_ms: $0.responseTimeMilliseconds.map { ($0 * 10).rounded() / 10 },
                                  consecutive_failures: $0.consecutiveFailures, last_error: $0.lastError)
                })
        }
        let report = Report(status: overall, services: services, timestamp: Date().formatted(.iso8601))
        return try JSONResponse.make(report)
    }

    func ready() async -> Response {
        let storageOK = await storage.isReachable()
        let status: HTTPResponse.Status = storageOK ? .ok : .serviceUnavailable
        guard vault != nil || sharedState != nil else {
            let body = storageOK
                ? #"{"status":"ready","checks":{"configuration":"ok","storage":"ok"}}"#
                : #"{"status":"not_ready","checks":{"configuration":"ok","storage":"unreachable"}}"#
            return JSONResponse.raw(body, status: status)
        }
        var checks: [String: JSONValue] = ["configuration": .string("ok"), "storage": .string(storageOK ? "ok" : "unreachable")]
        var body: [String: JSONValue] = ["status": .string(storageOK ? "ready" : "not_ready")]
        var details: [String: JSONValue] = [:]
        if let vault {
            if let problem = await vault.check() {
                checks["vault"] = .string("degraded")
                details["vault"] = .string(problem)
            } else {
                checks["vault"] = .string("ok")
            }
        }
        if let sharedState {
            if sharedState.isUp {
                checks["redis"] = .string("ok")
            } else {
                checks["redis"] = .string("degraded")
                details["redis"] = .string("unreachable or slower than REDIS_TIMEOUT_MS: rate limits are decided by this replica (REDIS_FAILURE_MODE=\(sharedState.failureMode.rawValue))")
            }
        }
        if !details.isEmpty { body["details"] = .object(details) }
        body["checks"] = .object(checks)
        return JSONResponse.raw(JSONValue.object(body).json, status: status)
    }
}

/// JSON responses for the control plane.
enum JSONResponse {
    static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func raw(_ json: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
    }
}
