import BrainDomain
import Foundation
import SQLiteNIO

/// Workflow runs in the embedded store's file (same connection as the registry: SQLite has one
/// writer anyway). One row per run, rewritten whole at each transition.
public final class SQLiteRunStore: WorkflowRunRepository {
    private let connection: SQLiteConnection

    public init(_ store: SQLiteRegistryStore) {
        self.connection = store.connection
    }

    public func create(_ run: WorkflowRun, idempotency: RunIdempotency?) async throws -> (existing: WorkflowRun, digest: String)? {
        let tenantKey = run.tenant?.value ?? ""
        if let idempotency {
            let claimed = try await connection.query(
                """
                INSERT INTO workflow_run_keys (tenant_key, workflow, key, body_digest, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING RETURNING run_id
                """,
                [.text(tenantKey), .text(run.workflow.value), .text(idempotency.key), .text(idempotency.bodyDigest), .text(run.id),
                 .float(Date().timeIntervalSince1970)])
            if claimed.isEmpty {
                let rows = try await connection.query(
                    "SELECT k.body_digest, r.document FROM workflow_run_keys k LEFT JOIN workflow_runs r ON r.id = k.run_id WHERE k.tenant_key = ? AND k.workflow = ? AND k.key = ?",
                    [.text(tenantKey), .text(run.workflow.value), .text(idempotency.key)])
                let digest = rows.first?.column("body_digest")?.string ?? ""
                // The first request claimed the key but has not stored its run yet: it is in progress.
                guard let document = rows.first?.column("document")?.string else {
                    var placeholder = run
                    placeholder.status = .running
                    return (placeholder, digest)
                }
                return (try WorkflowRunCodec.decode(document), digest)
            }
        }
        _ = try await connection.query(
            "INSERT INTO workflow_runs (id, tenant_key, workflow, status, started_at, document) VALUES (?, ?, ?, ?, ?, ?)",
            [.text(run.id), .text(tenantKey), .text(run.workflow.value), .text(run.status.rawValue), .float(run.startedAt),
             .text(WorkflowRunCodec.encode(run))])
        return nil
    }

    public func save(_ run: WorkflowRun) async throws {
        _ = try await connection.query(
            "UPDATE workflow_runs SET status = ?, document = ? WHERE id = ?",
            [.text(run.status.rawValue), .text(WorkflowRunCodec.encode(run)), .text(run.id)])
    }

    public func run(id: String, tenant: TenantID?, allTenants: Bool) async throws -> WorkflowRun? {
        let rows = try await connection.query(
            "SELECT document FROM workflow_runs WHERE id = ? AND (? OR tenant_key = ?)",
            [.text(id), .integer(allTenants ? 1 : 0), .text(tenant?.value ?? "")])
        return try rows.first?.column("document")?.string.map(WorkflowRunCodec.decode)
    }

    public func runs(_ query: RunQuery) async throws -> [WorkflowRun] {
        let rows = try await connection.query(
            """
            SELECT document FROM workflow_runs
            WHERE (? OR tenant_key = ?) AND (? IS NULL OR workflow = ?) AND (? IS NULL OR status = ?)
            ORDER BY started_at DESC, id DESC LIMIT ?
            """,
            [.integer(query.allTenants ? 1 : 0), .text(query.tenant?.value ?? ""), query.workflow.map { .text($0.value) } ?? .null,
             query.workflow.map { .text($0.value) } ?? .null, query.status.map { .text($0.rawValue) } ?? .null,
             query.status.map { .text($0.rawValue) } ?? .null, .integer(query.limit)])
        return try rows.compactMap { try $0.column("document")?.string.map(WorkflowRunCodec.decode) }
    }

    public func unfinished() async throws -> [WorkflowRun] {
        let rows = try await connection.query("SELECT document FROM workflow_runs WHERE status = 'running' ORDER BY started_at")
        return try rows.compactMap { try $0.column("document")?.string.map(WorkflowRunCodec.decode) }
    }

    public func forgetRuns(startedBefore before: Double) async throws -> Int {
        try await connection.query("DELETE FROM workflow_runs WHERE status != 'running' AND started_at < ? RETURNING id", [.float(before)]).count
    }

    public func forgetIdempotency(before: Double) async throws {
        _ = try await connection.query("DELETE FROM workflow_run_keys WHERE created_at < ?", [.float(before)])
    }
}
