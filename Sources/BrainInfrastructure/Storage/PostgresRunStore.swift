import BrainDomain
import Foundation
import Logging
import PostgresNIO

/// Workflow runs in PostgreSQL. Every statement runs bound to the run's tenant, so row-level
/// security (migration 2) keeps one tenant's runs from another even if a query were wrong;
/// only resuming at start and platform-admin listings use the platform scope.
public final class PostgresRunStore: WorkflowRunRepository {
    private let store: PostgresRegistryStore
    private let logger: Logger

    public init(_ store: PostgresRegistryStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    private static func scope(_ tenant: TenantID?) -> TenantScope { tenant.map { .tenant($0) } ?? .platform }

    public func create(_ run: WorkflowRun, idempotency: RunIdempotency?) async throws -> (existing: WorkflowRun, digest: String)? {
        let logger = self.logger
        return try await store.inScope(Self.scope(run.tenant)) { connection -> (existing: WorkflowRun, digest: String)? in
            let tenant = run.tenant?.value
            if let idempotency {
                let claimed = try await connection.query(
                    """
                    INSERT INTO workflow_run_keys (tenant_id, workflow, key, body_digest, run_id, created_at)
                    VALUES (\(tenant)::uuid, \(run.workflow.value), \(idempotency.key), \(idempotency.bodyDigest), \(run.id)::uuid, \(Date().timeIntervalSince1970))
                    ON CONFLICT DO NOTHING RETURNING run_id
                    """, logger: logger)
                var inserted = false
                for try await _ in claimed { inserted = true }
                if !inserted {
                    let rows = try await connection.query(
                        """
                        SELECT k.body_digest, r.document FROM workflow_run_keys k LEFT JOIN workflow_runs r ON r.id = k.run_id
                        WHERE COALESCE(k.tenant_id, '00000000-0000-0000-0000-000000000000'::uuid) = COALESCE(\(tenant)::uuid, '00000000-0000-0000-0000-000000000000'::uuid)
                          AND k.workflow = \(run.workflow.value) AND k.key = \(idempotency.key)
                        """, logger: logger)
                    for try await (digest, document) in rows.decode((String, String?).self) {
                        guard let document else {
                            return (run, digest)
                        }
                        return (try WorkflowRunCodec.decode(document), digest)
                    }
                    return (run, "")
                }
            }
            try await connection.query(
                """
                INSERT INTO workflow_runs (id, tenant_id, workflow, status, started_at, document)
                VALUES (\(run.id)::uuid, \(tenant)::uuid, \(run.workflow.value), \(run.status.rawValue), \(run.startedAt), \(WorkflowRunCodec.encode(run)))
                """, logger: logger)
            return nil
        }
    }

    public func save(_ run: WorkflowRun) async throws {
        let logger = self.logger
        _ = try await store.inScope(Self.scope(run.tenant)) { connection in
            try await connection.query(
                "UPDATE workflow_runs SET status = \(run.status.rawValue), document = \(WorkflowRunCodec.encode(run)) WHERE id = \(run.id)::uuid",
                logger: logger)
        }
    }

    public func run(id: String, tenant: TenantID?, allTenants: Bool) async throws -> WorkflowRun? {
        let logger = self.logger
        return try await store.inScope(allTenants ? .platform : Self.scope(tenant)) { connection in
            let rows = try await connection.query("SELECT document FROM workflow_runs WHERE id = \(id)::uuid", logger: logger)
            for try await document in rows.decode(String.self) { return try WorkflowRunCodec.decode(document) }
            return nil
        }
    }

    public func runs(_ query: RunQuery) async throws -> [WorkflowRun] {
        let logger = self.logger
        return try await store.inScope(query.allTenants ? .platform : Self.scope(query.tenant)) { connection in
            let rows = try await connection.query(
                """
                SELECT document FROM workflow_runs
                WHERE (\(query.workflow?.value)::text IS NULL OR workflow = \(query.workflow?.value))
                  AND (\(query.status?.rawValue)::text IS NULL OR status = \(query.status?.rawValue))
                ORDER BY started_at DESC, id DESC LIMIT \(query.limit)
                """, logger: logger)
            var out: [WorkflowRun] = []
            for try await document in rows.decode(String.self) { out.append(try WorkflowRunCodec.decode(document)) }
            return out
        }
    }

    public func unfinished() async throws -> [WorkflowRun] {
        let logger = self.logger
        return try await store.inScope(.platform) { connection in
            let rows = try await connection.query("SELECT document FROM workflow_runs WHERE status = 'running' ORDER BY started_at", logger: logger)
            var out: [WorkflowRun] = []
            for try await document in rows.decode(String.self) { out.append(try WorkflowRunCodec.decode(document)) }
            return out
        }
    }

    public func forgetRuns(startedBefore before: Double) async throws -> Int {
        let logger = self.logger
        return try await store.inScope(.platform) { connection in
            var removed = 0
            for try await _ in try await connection.query(
                "DELETE FROM workflow_runs WHERE status <> 'running' AND started_at < \(before) RETURNING id", logger: logger
            ).decode(UUID.self) { removed += 1 }
            return removed
        }
    }

    public func forgetIdempotency(before: Double) async throws {
        let logger = self.logger
        _ = try await store.inScope(.platform) { connection in
            try await connection.query("DELETE FROM workflow_run_keys WHERE created_at < \(before)", logger: logger)
        }
    }
}
