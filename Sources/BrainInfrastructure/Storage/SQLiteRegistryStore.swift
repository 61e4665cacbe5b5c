import BrainApplication
import BrainDomain
import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO

/// The embedded store (`DATABASE_URL=sqlite:…`, the default): services and events in
/// one SQLite file, versioned migrations applied at start.
///
/// One connection on its own one-thread pool: SQLite serialises writers anyway, and every
/// change is a single statement (`UPDATE … WHERE version = ? RETURNING`), so no transaction
/// spans an `await`. Tenant isolation here is by the queries' `WHERE` clauses (one process owns
/// the file); PostgreSQL adds row-level security for shared deployments.
public final class SQLiteRegistryStore: ServiceRepository, EventRepository {
    let connection: SQLiteConnection
    private let threadPool: NIOThreadPool
    private let reader: @Sendable (String) throws -> ServiceRoute
    private let logger: Logger

    /// The migrations, in order; each runs once, recorded in `schema_migrations`.
    static let migrations: [String] = [
        """
        CREATE TABLE services (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tenant_id TEXT,
            tenant_key TEXT NOT NULL,
            name TEXT NOT NULL,
            document TEXT NOT NULL,
            version INTEGER NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (tenant_key, name)
        );
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            type TEXT NOT NULL,
            occurred_at REAL NOT NULL,
            tenant_id TEXT,
            data TEXT NOT NULL
        );
        CREATE INDEX events_by_type ON events (type, id);
        CREATE INDEX events_by_time ON events (occurred_at);
        """,
        """
        CREATE TABLE workflow_runs (
            id TEXT PRIMARY KEY,
            tenant_key TEXT NOT NULL,
            workflow TEXT NOT NULL,
            status TEXT NOT NULL,
            started_at REAL NOT NULL,
            document TEXT NOT NULL
        );
        CREATE INDEX workflow_runs_by_tenant ON workflow_runs (tenant_key, started_at);
        CREATE INDEX workflow_runs_running ON workflow_runs (status) WHERE status = 'running';
        CREATE TABLE workflow_run_keys (
            tenant_key TEXT NOT NULL,
            workflow TEXT NOT NULL,
            key TEXT NOT NULL,
            body_digest TEXT NOT NULL,
            run_id TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (tenant_key, workflow, key)
        );
        CREATE INDEX workflow_run_keys_by_time ON workflow_run_keys (created_at);
        """,
        """
        CREATE TABLE workflows (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tenant_key TEXT NOT NULL,
            name TEXT NOT NULL,
            document TEXT NOT NULL,
            version INTEGER NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (tenant_key, name)
        );
        """,
        """
        CREATE TABLE integration_secrets (
            tenant_key TEXT NOT NULL,
            integration TEXT NOT NULL,
            envelope TEXT NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (tenant_key, integration)
        );
        """,
    ]

    /// Opens (creating if needed) the file and applies pending migrations.
    /// - Parameter reader: turns a stored document back into a service (the YAML/JSON reader,
    ///   with the configured defaults).
    public static func open(path: String, reader: @escaping @Sendable (String) throws -> ServiceRoute, logger: Logger) async throws -> SQLiteRegistryStore {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let connection = try await SQLiteConnection.open(storage: .file(path: path), threadPool: pool, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
        let store = SQLiteRegistryStore(connection: connection, threadPool: pool, reader: reader, logger: logger)
        try await store.migrate()
        return store
    }

    private init(connection: SQLiteConnection, threadPool: NIOThreadPool, reader: @escaping @Sendable (String) throws -> ServiceRoute, logger: Logger) {
        self.connection = connection
        self.threadPool = threadPool
        self.reader = reader
        self.logger = logger
    }

    public func close() async {
        try? await connection.close()
        try? await threadPool.shutdownGracefully()
    }

    private func migrate() async throws {
        _ = try await connection.query("PRAGMA journal_mode = WAL")
        _ = try await connection.query("PRAGMA busy_timeout = 5000")
        // With WAL, NORMAL syncs at checkpoints: a committed write survives the process being
        // killed; only a power loss can lose the last ones (workflow steps are then asked again
        // with the same Idempotency-Key).
        _ = try await connection.query("PRAGMA synchronous = NORMAL")
        _ = try await connection.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
        let rows = try await connection.query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
        let current = rows.first?.column("v")?.integer ?? 0
        for (index, migration) in Self.migrations.enumerated() where index + 1 > current {
            _ = try await connection.query("BEGIN")
            do {
                for statement in migration.split(separator: ";") where !statement.allSatisfy(\.isWhitespace) {
                    _ = try await connection.query(String(statement))
                }
                _ = try await connection.query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", [.integer(index + 1), .float(Date().timeIntervalSince1970)])
                _ = try await connection.query("COMMIT")
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw error
            }
            logger.notice("storage migrated", metadata: ["store": "sqlite", "version": .stringConvertible(index + 1)])
        }
    }

    // MARK: ServiceRepository

    public func loadAll() async throws -> [StoredService] {
        let rows = try await connection.query("SELECT document, version FROM services ORDER BY id")
        return try rows.map(stored)
    }

    public func find(name: ServiceName, tenant: TenantID?) async throws -> StoredService? {
        let rows = try await connection.query(
            "SELECT document, version FROM services WHERE tenant_key = ? AND name = ?", [.text(tenant?.value ?? ""), .text(name.value)])
        return try rows.first.map(stored)
    }

    public func insert(_ service: ServiceRoute) async throws -> StoredService {
        do {
            _ = try await connection.query(
                "INSERT INTO services (tenant_id, tenant_key, name, document, version, updated_at) VALUES (?, ?, ?, ?, 1, ?)",
                [service.tenant.map { .text($0.value) } ?? .null, .text(service.tenant?.value ?? ""), .text(service.name.value),
                 .text(ServiceDocumentWriter.json(service)), .float(Date().timeIntervalSince1970)])
        } catch let error as SQLiteError where error.reason == .constraint || error.message.contains("UNIQUE") {
            throw RepositoryError.duplicate(name: service.name.value)
        }
        return StoredService(service: service, version: 1)
    }

    public func update(_ service: ServiceRoute, expectedVersion: Int?) async throws -> StoredService {
        let rows = try await connection.query(
            """
            UPDATE services SET document = ?, version = version + 1, updated_at = ?
            WHERE tenant_key = ? AND name = ? AND (? IS NULL OR version = ?) RETURNING version
            """,
            [.text(ServiceDocumentWriter.json(service)), .float(Date().timeIntervalSince1970), .text(service.tenant?.value ?? ""),
             .text(service.name.value), expectedVersion.map { .integer($0) } ?? .null, expectedVersion.map { .integer($0) } ?? .null])
        if let version = rows.first?.column("version")?.integer { return StoredService(service: service, version: version) }
        throw try await whyNot(name: service.name, tenant: service.tenant)
    }

    public func delete(name: ServiceName, tenant: TenantID?, expectedVersion: Int?) async throws {
        let rows = try await connection.query(
            "DELETE FROM services WHERE tenant_key = ? AND name = ? AND (? IS NULL OR version = ?) RETURNING id",
            [.text(tenant?.value ?? ""), .text(name.value), expectedVersion.map { .integer($0) } ?? .null, expectedVersion.map { .integer($0) } ?? .null])
        if rows.isEmpty { throw try await whyNot(name: name, tenant: tenant) }
    }

    private func whyNot(name: ServiceName, tenant: TenantID?) async throws -> RepositoryError {
        guard let current = try await find(name: name, tenant: tenant) else { return .notFound(name: name.value) }
        return .versionConflict(current: current.version)
    }

    private func stored(_ row: SQLiteRow) throws -> StoredService {
        guard let document = row.column("document")?.string, let version = row.column("version")?.integer else {
            throw RepositoryError.notFound(name: "?")
        }
        return StoredService(service: try reader(document), version: version)
    }

    // MARK: EventRepository

    /// One multi-row insert per 500 events: one statement, one commit.
    public func append(_ events: [TimedEvent]) async throws -> [StoredEvent] {
        var stored: [StoredEvent] = []
        stored.reserveCapacity(events.count)
        var start = 0
        while start < events.count {
            let chunk = events[start..<min(start + 500, events.count)]
            start = chunk.endIndex
            var sql = "INSERT INTO events (type, occurred_at, tenant_id, data) VALUES (?, ?, ?, ?)"
            for _ in 1..<chunk.count { sql += ", (?, ?, ?, ?)" }
            sql += " RETURNING id"
            var binds: [SQLiteData] = []
            binds.reserveCapacity(chunk.count * 4)
            let data = chunk.map { DomainEventEncoding.json($0.event) }
            for (timed, json) in zip(chunk, data) {
                binds += [.text(timed.event.typeName), .float(timed.occurredAt), timed.event.tenant.map { .text($0.value) } ?? .null, .text(json)]
            }
            // Rows get ids in VALUES order; RETURNING lists them in no promised order.
            let ids = try await connection.query(sql, binds).map { Int64($0.column("id")?.integer ?? 0) }.sorted()
            guard ids.count == chunk.count else { throw EventsNotNumbered(rows: chunk.count, ids: ids.count) }
            for ((timed, json), id) in zip(zip(chunk, data), ids) {
                stored.append(StoredEvent(id: id, type: timed.event.typeName, occurredAt: timed.occurredAt, tenantID: timed.event.tenant?.value, data: json))
            }
        }
        return stored
    }

    public func events(type: String?, tenant: TenantID?, since: Int64?, limit: Int) async throws -> [StoredEvent] {
        let rows = try await connection.query(
            """
            SELECT id, type, occurred_at, tenant_id, data FROM (
                SELECT * FROM events
                WHERE (? IS NULL OR type = ?) AND (? IS NULL OR tenant_id = ?) AND id > ?
                ORDER BY id \(since == nil ? "DESC" : "ASC") LIMIT ?
            ) ORDER BY id
            """,
            [type.map { .text($0) } ?? .null, type.map { .text($0) } ?? .null, tenant.map { .text($0.value) } ?? .null,
             tenant.map { .text($0.value) } ?? .null, .integer(Int(since ?? 0)), .integer(limit)])
        return rows.map { row in
            StoredEvent(
                id: Int64(row.column("id")?.integer ?? 0), type: row.column("type")?.string ?? "",
                occurredAt: row.column("occurred_at")?.double ?? 0, tenantID: row.column("tenant_id")?.string,
                data: row.column("data")?.string ?? "{}")
        }
    }

    public func prune(before time: Double) async throws -> Int {
        let rows = try await connection.query("DELETE FROM events WHERE occurred_at < ? RETURNING id", [.float(time)])
        return rows.count
    }
}

/// The events insert returned fewer ids than rows (SQLite guarantees one per row).
struct EventsNotNumbered: Error, CustomStringConvertible {
    let rows: Int
    let ids: Int
    var description: String { "the events insert returned \(ids) ids for \(rows) rows" }
}
