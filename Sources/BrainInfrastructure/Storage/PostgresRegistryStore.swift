import BrainApplication
import BrainDomain
import Foundation
import Logging
import PostgresNIO

/// The shared store (`DATABASE_URL=postgresql://…`): services and events in
/// PostgreSQL with row-level security, changes announced to every replica with NOTIFY.
///
/// Tenant isolation: every statement runs in a transaction that first calls
/// `set_config('app.current_tenant_id', $1, true)` with a bound parameter; the policies
/// (migration 1) let a tenant context see its own rows and the global ones and change only its
/// own; `global` changes only global rows; `platform` (loading the registry) sees all. The
/// tables are created by the migration role and `FORCE ROW LEVEL SECURITY` applies the policies
/// even to their owner; the gateway's runtime role (`DATABASE_URL`'s user) owns nothing.
public final class PostgresRegistryStore: ServiceRepository, EventRepository {
    public static let changeChannel = "brain_registry"

    public let client: PostgresClient
    private let reader: @Sendable (String) throws -> ServiceRoute
    private let logger: Logger

    /// Migration 1; `%ROLE%` is replaced with the runtime role (quoted) when it differs from the
    /// migration role.
    static let migrations: [[String]] = [[
        """
        CREATE TABLE services (
            id bigserial PRIMARY KEY,
            tenant_id uuid NULL,
            name text NOT NULL,
            document text NOT NULL,
            version integer NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        "CREATE UNIQUE INDEX services_tenant_name ON services ((COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid)), name)",
        """
        CREATE TABLE events (
            id bigserial PRIMARY KEY,
            type text NOT NULL,
            occurred_at double precision NOT NULL,
            tenant_id uuid NULL,
            data text NOT NULL
        )
        """,
        "CREATE INDEX events_by_type ON events (type, id)",
        "CREATE INDEX events_by_time ON events (occurred_at)",
        "ALTER TABLE services ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE services FORCE ROW LEVEL SECURITY",
        "ALTER TABLE events ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE events FORCE ROW LEVEL SECURITY",
        """
        CREATE POLICY services_read ON services FOR SELECT USING (
            current_setting('app.current_tenant_id', true) = 'platform'
            OR tenant_id IS NULL
            OR tenant_id::text = current_setting('app.current_tenant_id', true))
        """,
        """
        CREATE POLICY services_write ON services FOR ALL USING (
            current_setting('app.current_tenant_id', true) = 'platform'
            OR (tenant_id IS NULL AND current_setting('app.current_tenant_id', true) = 'global')
            OR tenant_id::text = current_setting('app.current_tenant_id', true))
        WITH CHECK (
            current_setting('app.current_tenant_id', true) = 'platform'
            OR (tenant_id IS NULL AND current_setting('app.current_tenant_id', true) = 'global')
            OR tenant_id::text = current_setting('app.current_tenant_id', true))
        """,
        """
        CREATE POLICY events_access ON events FOR ALL USING (
            current_setting('app.current_tenant_id', true) = 'platform'
            OR tenant_id IS NULL
            OR tenant_id::text = current_setting('app.current_tenant_id', true))
        WITH CHECK (
            current_setting('app.current_tenant_id', true) = 'platform'
            OR tenant_id IS NULL
            OR tenant_id::text = current_setting('app.current_tenant_id', true))
        """,
        "GRANT SELECT, INSERT, UPDATE, DELETE ON services, events TO %ROLE%",
        "GRANT USAGE, SELECT ON SEQUENCE services_id_seq, events_id_seq TO %ROLE%",
    ], [
        // Migration 2: workflow runs, each visible to its own tenant only (and the platform).
        """
        CREATE TABLE workflow_runs (
            id uuid PRIMARY KEY,
            tenant_id uuid NULL,
            workflow text NOT NULL,
            status text NOT NULL,
            started_at double precision NOT NULL,
            document text NOT NULL
        )
        """,
        "CREATE INDEX workflow_runs_by_tenant ON workflow_runs (tenant_id, started_at)",
        "CREATE INDEX workflow_runs_running ON workflow_runs (status) WHERE status = 'running'",
        """
        CREATE TABLE workflow_run_keys (
            tenant_id uuid NULL,
            workflow text NOT NULL,
            key text NOT NULL,
            body_digest text NOT NULL,
            run_id uuid NOT NULL,
            created_at double precision NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX workflow_run_keys_unique ON workflow_run_keys ((COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid)), workflow, key)",
        "CREATE INDEX workflow_run_keys_by_time ON workflow_run_keys (created_at)",
        "ALTER TABLE workflow_runs ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE workflow_runs FORCE ROW LEVEL SECURITY",
        "ALTER TABLE workflow_run_keys ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE workflow_run_keys FORCE ROW LEVEL SECURITY",
        """
        CREATE POLICY workflow_runs_access ON workflow_runs FOR ALL USING (
            current_setting('app.current_tenant_id', true) = 'platform'
            OR tenant_id::text = current_setting('app.current_tenant_id', true))
        WITH CHECK (
            current_setting('app.current_tenant_id', true) = 'platform'
            OR tenant_id::text = current_setting('app.current_tenant_id', true))
        """,
        """
        CREATE POLICY workflow_run_keys_access ON workflow_run_keys FOR ALL USING (
            current_setting('app.current_tenant_id', true) = 'platform'
            OR tenant_id::text = current_setting('app.current_tenant_id', true))
        WITH CHECK (
            current_setting('app.current_tenant_id', true) = 'platform'
            OR tenant_id::text = current_setting('app.current_tenant_id', true))
        """,
        "GRANT SELECT, INSERT, UPDATE, DELETE ON workflow_runs, workflow_run_keys TO %ROLE%",
    ], [
        // Migration 3: workflow definitions, scoped like services (a tenant sees its own and the global ones).
        """
        CREATE TABLE workflows (
            id bigserial PRIMARY KEY,
            tenant_id uuid NULL,
            name text NOT NULL,
            document text NOT NULL,
            version integer NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        "CREATE UNIQUE INDEX workflows_tenant_name ON workflows ((COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid)), name)",
        "ALTER TABLE workflows ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE workflows FORCE ROW LEVEL SECURITY",
        """
        CREATE POLICY workflows_read ON workflows FOR SELECT USING (
            current_setting('app.current_tenant_id', true) = 'platform'
            OR tenant_id IS NULL
            OR tenant_id::text = current_setting('app.current_tenant_id', true))
        """,
        """
        CREATE POLICY workflows_write ON workflows FOR ALL USING (
            current_setting('app.current_tenant_id', true) = 'platform'
            OR (tenant_id IS NULL AND current_setting('app.current_tenant_id', true) = 'global')
            OR tenant_id::text = current_setting('app.current_tenant_id', true))
        WITH CHECK (
            current_setting('app.current_tenant_id', true) = 'platform'
            OR (tenant_id IS NULL AND current_setting('app.current_tenant_id', true) = 'global')
            OR tenant_id::text = current_setting('app.current_tenant_id', true))
        """,
        "GRANT SELECT, INSERT, UPDATE, DELETE ON workflows TO %ROLE%",
        "GRANT USAGE, SELECT ON SEQUENCE workflows_id_seq TO %ROLE%",
    ], [
        // Migration 4: integration credentials sealed by the gateway (when Vault is not used),
        // each visible to its own tenant only.
        """
        CREATE TABLE integration_secrets (
            tenant_id uuid NOT NULL,
            integration text NOT NULL,
            envelope text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, integration)
        )
        """,
        "ALTER TABLE integration_secrets ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE integration_secrets FORCE ROW LEVEL SECURITY",
        """
        CREATE POLICY integration_secrets_access ON integration_secrets FOR ALL USING (
            current_setting('app.current_tenant_id', true) = 'platform'
            OR tenant_id::text = current_setting('app.current_tenant_id', true))
        WITH CHECK (
            current_setting('app.current_tenant_id', true) = 'platform'
            OR tenant_id::text = current_setting('app.current_tenant_id', true))
        """,
        "GRANT SELECT, INSERT, UPDATE, DELETE ON integration_secrets TO %ROLE%",
    ]]

    public init(client: PostgresClient, reader: @escaping @Sendable (String) throws -> ServiceRoute, logger: Logger) {
        self.client = client
        self.reader = reader
        self.logger = logger
    }

    /// Client configuration from a `postgresql://user:password@host:port/database` URL
    /// (`?sslmode=disable|require`, default: TLS when the server offers it).
    public static func configuration(url: String) throws(ConfigurationError) -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), let host = components.host, let user = components.user,
              ["postgres", "postgresql"].contains(components.scheme ?? "")
        else {
            throw ConfigurationError(field: "DATABASE_URL", reason: "must be postgresql://user[:password]@host[:port]/database")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let sslmode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS = switch sslmode {
        case "disable": .disable
        case "require", "verify-full": .require(.makeClientConfiguration())
        default: .prefer(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user.removingPercentEncoding ?? user,
            password: components.password?.removingPercentEncoding, database: database.isEmpty ? nil : database, tls: tls)
        configuration.options.maximumConnections = 8
        return configuration
    }

    /// Applies pending migrations with `migrationClient` (the tables' owner), granting the
    /// runtime role (`runtimeRole`) what it needs when it is another role.
    public static func migrate(using migrationClient: PostgresClient, runtimeRole: String, migrationRole: String, logger: Logger) async throws {
        try await migrationClient.withTransaction(logger: logger) { connection in
            // One migrator at a time, even with replicas starting together.
            try await connection.query("SELECT pg_advisory_xact_lock(7215498)", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS brain_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                logger: logger)
            var current = 0
            for try await version in try await connection.query("SELECT COALESCE(MAX(version), 0) FROM brain_schema_migrations", logger: logger).decode(Int.self) {
                current = version
            }
            for (index, statements) in migrations.enumerated() where index + 1 > current {
                for statement in statements {
                    if statement.contains("%ROLE%") {
                        guard runtimeRole != migrationRole else { continue }
                        let quoted = "\"" + runtimeRole.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                        try await connection.query(PostgresQuery(unsafeSQL: statement.replacingOccurrences(of: "%ROLE%", with: quoted)), logger: logger)
                    } else {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                }
                try await connection.query("INSERT INTO brain_schema_migrations (version) VALUES (\(index + 1))", logger: logger)
                logger.notice("storage migrated", metadata: ["store": "postgresql", "version": .stringConvertible(index + 1)])
            }
        }
    }

    /// Runs `body` in a transaction bound to `scope` (see the type's comment).
    public func inScope<T: Sendable>(_ scope: TenantScope, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let context = switch scope {
        case .tenant(let tenant): tenant.value
        case .global: "global"
        case .platform: "platform"
        }
        do {
            return try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT set_config('app.current_tenant_id', \(context), true)", logger: logger)
                return try await body(connection)
            }
        } catch let error as PostgresTransactionError {
            // The transaction was rolled back; what matters to callers is why.
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

    static func scope(of tenant: TenantID?) -> TenantScope { tenant.map { .tenant($0) } ?? .global }

    private func notifyChange(_ connection: PostgresConnection, _ service: ServiceRoute) async throws {
        let payload = (service.tenant?.value ?? "") + "/" + service.name.value
        try await connection.query("SELECT pg_notify(\(Self.changeChannel), \(payload))", logger: logger)
    }

    // MARK: ServiceRepository

    public func loadAll() async throws -> [StoredService] {
        try await inScope(.platform) { connection in
            var out: [StoredService] = []
            for try await (document, version) in try await connection.query("SELECT document, version FROM services ORDER BY id", logger: logger).decode((String, Int).self) {
                out.append(StoredService(service: try reader(document), version: version))
            }
            return out
        }
    }

    public func find(name: ServiceName, tenant: TenantID?) async throws -> StoredService? {
        try await inScope(Self.scope(of: tenant)) { connection in
            try await find(name: name, tenant: tenant, on: connection)
        }
    }

    private func find(name: ServiceName, tenant: TenantID?, on connection: PostgresConnection) async throws -> StoredService? {
        let rows = try await connection.query(
            """
            SELECT document, version FROM services
            WHERE name = \(name.value) AND tenant_id IS NOT DISTINCT FROM \(tenant?.value)::uuid
            """, logger: logger)
        for try await (document, version) in rows.decode((String, Int).self) {
            return StoredService(service: try reader(document), version: version)
        }
        return nil
    }

    public func insert(_ service: ServiceRoute) async throws -> StoredService {
        do {
            return try await inScope(Self.scope(of: service.tenant)) { connection in
                try await connection.query(
                    """
                    INSERT INTO services (tenant_id, name, document, version)
                    VALUES (\(service.tenant?.value)::uuid, \(service.name.value), \(ServiceDocumentWriter.json(service)), 1)
                    """, logger: logger)
                try await notifyChange(connection, service)
                return StoredService(service: service, version: 1)
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw RepositoryError.duplicate(name: service.name.value)
        }
    }

    public func update(_ service: ServiceRoute, expectedVersion: Int?) async throws -> StoredService {
        try await inScope(Self.scope(of: service.tenant)) { connection in
            let rows = try await connection.query(
                """
                UPDATE services SET document = \(ServiceDocumentWriter.json(service)), version = version + 1, updated_at = now()
                WHERE name = \(service.name.value) AND tenant_id IS NOT DISTINCT FROM \(service.tenant?.value)::uuid
                  AND (\(expectedVersion)::integer IS NULL OR version = \(expectedVersion)::integer)
                RETURNING version
                """, logger: logger)
            for try await version in rows.decode(Int.self) {
                try await notifyChange(connection, service)
                return StoredService(service: service, version: version)
            }
            guard let current = try await find(name: service.name, tenant: service.tenant, on: connection) else {
                throw RepositoryError.notFound(name: service.name.value)
            }
            throw RepositoryError.versionConflict(current: current.version)
        }
    }

    public func delete(name: ServiceName, tenant: TenantID?, expectedVersion: Int?) async throws {
        try await inScope(Self.scope(of: tenant)) { connection in
            let rows = try await connection.query(
                """
                DELETE FROM services
                WHERE name = \(name.value) AND tenant_id IS NOT DISTINCT FROM \(tenant?.value)::uuid
                  AND (\(expectedVersion)::integer IS NULL OR version = \(expectedVersion)::integer)
                RETURNING id
                """, logger: logger)
            for try await _ in rows.decode(Int64.self) {
                let payload = (tenant?.value ?? "") + "/" + name.value
                try await connection.query("SELECT pg_notify(\(Self.changeChannel), \(payload))", logger: logger)
                return
            }
            guard let current = try await find(name: name, tenant: tenant, on: connection) else {
                throw RepositoryError.notFound(name: name.value)
            }
            throw RepositoryError.versionConflict(current: current.version)
        }
    }

    // MARK: EventRepository

    public func append(_ events: [TimedEvent]) async throws -> [StoredEvent] {
        guard !events.isEmpty else { return [] }
        return try await inScope(.platform) { connection in
            var stored: [StoredEvent] = []
            for timed in events {
                let event = timed.event, time = timed.occurredAt
                let data = DomainEventEncoding.json(event)
                let rows = try await connection.query(
                    """
                    INSERT INTO events (type, occurred_at, tenant_id, data)
                    VALUES (\(event.typeName), \(time), \(event.tenant?.value)::uuid, \(data)) RETURNING id
                    """, logger: logger)
                for try await id in rows.decode(Int64.self) {
                    stored.append(StoredEvent(id: id, type: event.typeName, occurredAt: time, tenantID: event.tenant?.value, data: data))
                }
            }
            return stored
        }
    }

    public func events(type: String?, tenant: TenantID?, since: Int64?, limit: Int) async throws -> [StoredEvent] {
        try await inScope(tenant.map { .tenant($0) } ?? .platform) { connection in
            let order = since == nil ? "DESC" : "ASC"
            let query: PostgresQuery = """
                SELECT id, type, occurred_at, tenant_id::text, data FROM events
                WHERE (\(type)::text IS NULL OR type = \(type)::text)
                  AND (\(tenant?.value)::uuid IS NULL OR tenant_id = \(tenant?.value)::uuid)
                  AND id > \(since ?? 0)
                ORDER BY id \(unescaped: order) LIMIT \(limit)
                """
            var out: [StoredEvent] = []
            for try await (id, type, at, tenantID, data) in try await connection.query(query, logger: logger).decode((Int64, String, Double, String?, String).self) {
                out.append(StoredEvent(id: id, type: type, occurredAt: at, tenantID: tenantID, data: data))
            }
            return out.sorted { $0.id < $1.id }
        }
    }

    public func prune(before time: Double) async throws -> Int {
        try await inScope(.platform) { connection in
            var n = 0
            for try await _ in try await connection.query("DELETE FROM events WHERE occurred_at < \(time) RETURNING id", logger: logger).decode(Int64.self) { n += 1 }
            return n
        }
    }
}
