import BrainDomain
import Foundation
import SQLiteNIO
import Synchronization

/// Workflow runs in the embedded store's file (same connection as the registry: SQLite has one
/// writer anyway). One row per run, rewritten whole at each transition.
///
/// Run writes are group-committed: the writes that arrive while one commit is in flight go
/// together as one multi-row upsert in one transaction, and each caller resumes only once its
/// row is committed. What a write guarantees is unchanged (committed to the WAL before the
/// engine acts on it); what it costs under load is shared.
public final class SQLiteRunStore: WorkflowRunRepository {
    private let connection: SQLiteConnection
    private let writes = Mutex(GroupCommit<RowWrite>(limit: 500))

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
        do {
            try await write(run)
        } catch {
            // The key must not stay claimed by a run that was never stored: it would answer
            // "in progress" for a day. (PostgreSQL claims and inserts in one transaction.)
            if let idempotency {
                _ = try? await connection.query(
                    "DELETE FROM workflow_run_keys WHERE tenant_key = ? AND workflow = ? AND key = ? AND run_id = ?",
                    [.text(tenantKey), .text(run.workflow.value), .text(idempotency.key), .text(run.id)])
            }
            throw error
        }
        return nil
    }

    public func save(_ run: WorkflowRun) async throws {
        try await write(run)
    }

    /// Inserts or rewrites the run's row, in the next group commit. The writer that finds no
    /// commit in flight leads one (on its own task: no thread is woken for it); writers that
    /// arrive meanwhile wait, and the first of them leads the next commit with all of them.
    private func write(_ run: WorkflowRun) async throws {
        let binds: [SQLiteData] = [
            .text(run.id), .text(run.tenant?.value ?? ""), .text(run.workflow.value), .text(run.status.rawValue), .float(run.startedAt),
            .text(WorkflowRunCodec.encode(run)),
        ]
        let turn = try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Turn, any Error>) in
            if let batch = writes.withLock({ $0.arrived(RowWrite(binds: binds, waiter: waiter)) }) {
                waiter.resume(returning: .lead(batch))
            }
        }
        guard case .lead(let batch) = turn else { return }
        let result: Result<Void, any Error>
        do {
            try await connection.query(Self.upsert(rows: batch.count), batch.flatMap(\.binds)) { _ in }
            result = .success(())
        } catch {
            result = .failure(error)
        }
        // The batch's first write is this one; the others wait for the outcome.
        for write in batch.dropFirst() {
            switch result {
            case .success: write.waiter.resume(returning: .committed)
            case .failure(let error): write.waiter.resume(throwing: error)
            }
        }
        if let next = writes.withLock({ $0.committed() }), let leader = next.first {
            leader.waiter.resume(returning: .lead(next))
        }
        try result.get()
    }

    /// What a waiting writer is woken with.
    private enum Turn {
        case committed
        /// Commit these writes (the first is the woken writer's own).
        case lead([RowWrite])
    }

    private struct RowWrite {
        let binds: [SQLiteData]
        let waiter: CheckedContinuation<Turn, any Error>
    }

    /// One statement for a batch of rows. Rows of one run never meet in it (the engine awaits
    /// each write), and if they did SQLite applies the rows in order, so the last would win.
    private static func upsert(rows: Int) -> String {
        var sql = "INSERT INTO workflow_runs (id, tenant_key, workflow, status, started_at, document) VALUES (?, ?, ?, ?, ?, ?)"
        sql.reserveCapacity(sql.utf8.count + rows * 20 + 90)
        for _ in 1..<rows { sql += ", (?, ?, ?, ?, ?, ?)" }
        sql += " ON CONFLICT (id) DO UPDATE SET status = excluded.status, document = excluded.document"
        return sql
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
