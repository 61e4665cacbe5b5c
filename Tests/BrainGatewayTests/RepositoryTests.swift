import BrainApplication
import BrainDomain
@testable import BrainInfrastructure
import Foundation
import Logging
import PostgresNIO
import Testing

/// One repository suite, run against both stores.
@Suite struct RepositoryTests {
    enum Store: String, CaseIterable, Sendable { case sqlite, postgres }

    static let reader: @Sendable (String) throws -> ServiceRoute = { try ServiceFileLoader().serviceDocument(json: $0, defaults: ServiceDefaults()) }
    static let quiet: Logger = {
        var logger = Logger(label: "repository-test")
        logger.logLevel = .critical
        return logger
    }()
    static let tenantA = try! TenantID(TestTokens.tenantA)
    static let tenantB = try! TenantID(TestTokens.tenantB)

    static func service(_ name: String, tenant: TenantID? = nil, port: Int = 1) -> ServiceRoute {
        try! ServiceRoute(
            name: ServiceName(name), tenant: tenant, instances: [UpstreamInstance(url: "http://127.0.0.1:\(port)")], basePath: BasePath("/v1"),
            routes: [RouteDefinition(pattern: RoutePattern("/items/{id}"), methods: [HttpMethod("GET")], roles: ["reader"])])
    }

    /// A fresh PostgreSQL database, migrated by the owner role, and the registry store of the
    /// runtime role on it (which owns nothing: row-level security applies).
    static func withPostgres(_ body: @Sendable (PostgresRegistryStore) async throws -> Void) async throws {
        let database = try await PostgresTestDatabase.create()
        try await database.withClient(user: "brain_owner") { owner in
            try await PostgresRegistryStore.migrate(using: owner, runtimeRole: "brain_gateway", migrationRole: "brain_owner", logger: quiet)
        }
        try await database.withClient(user: "brain_gateway") { client in
            try await body(PostgresRegistryStore(client: client, reader: reader, logger: quiet))
        }
    }

    /// Runs `body` with a fresh, migrated store of `kind`.
    static func withStore(_ kind: Store, _ body: @Sendable (any ServiceRepository & EventRepository) async throws -> Void) async throws {
        let logger = RepositoryTests.quiet
        switch kind {
        case .sqlite:
            let store = try await SQLiteRegistryStore.open(path: NSTemporaryDirectory() + "repo-\(UUID().uuidString).sqlite", reader: reader, logger: logger)
            do { try await body(store) } catch { await store.close(); throw error }
            await store.close()
        case .postgres:
            guard PostgresTestDatabase.available else { return }  // scripts/test always provides the cluster
            try await withPostgres { store in try await body(store) }
        }
    }

    @Test(arguments: Store.allCases)
    func servicesRoundTripWithVersions(store kind: Store) async throws {
        try await Self.withStore(kind) { store in
            let stored = try await store.insert(Self.service("crm"))
            #expect(stored.version == 1)
            // The same name in another tenant is another service; in the same tenant a duplicate.
            _ = try await store.insert(Self.service("crm", tenant: Self.tenantA))
            await #expect(throws: RepositoryError.duplicate(name: "crm")) { try await store.insert(Self.service("crm")) }
            await #expect(throws: RepositoryError.duplicate(name: "crm")) { try await store.insert(Self.service("crm", tenant: Self.tenantA)) }

            let found = try #require(try await store.find(name: ServiceName("crm"), tenant: nil))
            #expect(found.version == 1)
            #expect(found.service.routes == Self.service("crm").routes)
            #expect(found.service.basePath.prefix == "/v1")

            let updated = try await store.update(Self.service("crm", port: 2), expectedVersion: 1)
            #expect(updated.version == 2)
            await #expect(throws: RepositoryError.versionConflict(current: 2)) { try await store.update(Self.service("crm", port: 3), expectedVersion: 1) }
            #expect(try await store.update(Self.service("crm", port: 4), expectedVersion: nil).version == 3)
            await #expect(throws: RepositoryError.notFound(name: "nope")) { try await store.update(Self.service("nope"), expectedVersion: nil) }

            let all = try await store.loadAll()
            #expect(all.count == 2)
            #expect(all.first { $0.service.tenant == nil }?.service.instances.first?.port == 4)

            await #expect(throws: RepositoryError.versionConflict(current: 3)) { try await store.delete(name: ServiceName("crm"), tenant: nil, expectedVersion: 2) }
            try await store.delete(name: ServiceName("crm"), tenant: nil, expectedVersion: 3)
            #expect(try await store.find(name: ServiceName("crm"), tenant: nil) == nil)
            #expect(try await store.find(name: ServiceName("crm"), tenant: Self.tenantA) != nil)
            await #expect(throws: RepositoryError.notFound(name: "crm")) { try await store.delete(name: ServiceName("crm"), tenant: nil, expectedVersion: nil) }
        }
    }

    @Test(arguments: Store.allCases)
    func eventsAreAppendOnlyAndQueryable(store kind: Store) async throws {
        try await Self.withStore(kind) { store in
            let crm = try ServiceName("crm")
            let first = try await store.append([.serviceRegistered(service: crm, tenant: nil), .serviceUpdated(service: crm, tenant: Self.tenantA)], at: 1000)
            let second = try await store.append([.serviceRemoved(service: crm, tenant: Self.tenantB)], at: Date().timeIntervalSince1970)
            #expect(first.count == 2 && second.count == 1)
            #expect(first[0].id < first[1].id && first[1].id < second[0].id)

            let all = try await store.events(type: nil, tenant: nil, since: nil, limit: 100)
            #expect(all.map(\.type) == ["ServiceRegistered", "ServiceUpdated", "ServiceRemoved"])
            #expect(all[1].tenantID == Self.tenantA.value)
            let data = try JSONSerialization.jsonObject(with: Data(all[1].data.utf8)) as? [String: String]
            #expect(data?["service"] == "crm")
            #expect(try await store.events(type: "ServiceUpdated", tenant: nil, since: nil, limit: 100).count == 1)
            #expect(try await store.events(type: nil, tenant: Self.tenantB, since: nil, limit: 100).map(\.type) == ["ServiceRemoved"])
            #expect(try await store.events(type: nil, tenant: nil, since: first[0].id, limit: 100).count == 2)
            // Without `since`, the newest `limit` events, oldest first.
            #expect(try await store.events(type: nil, tenant: nil, since: nil, limit: 2).map(\.id) == [first[1].id, second[0].id])
            // Retention: only the old ones go.
            #expect(try await store.prune(before: 2000) == 2)
            #expect(try await store.events(type: nil, tenant: nil, since: nil, limit: 100).map(\.type) == ["ServiceRemoved"])
        }
    }

    /// The journal appends everything queued in one call: 1,200 events with their own times
    /// (more than one statement's worth) come back numbered in order, times kept.
    @Test(arguments: Store.allCases)
    func aBatchOfTimedEventsIsNumberedInOrder(store kind: Store) async throws {
        try await Self.withStore(kind) { store in
            let crm = try ServiceName("crm")
            let timed = (0..<1_200).map { TimedEvent(.serviceUpdated(service: crm, tenant: $0 % 2 == 0 ? nil : Self.tenantA), at: 1000 + Double($0)) }
            let stored = try await store.append(timed)
            #expect(stored.count == 1_200)
            #expect(zip(stored, stored.dropFirst()).allSatisfy { $0.id < $1.id })
            #expect(stored.map(\.occurredAt) == timed.map(\.occurredAt))
            let read = try await store.events(type: nil, tenant: nil, since: nil, limit: 2_000)
            #expect(read.map(\.id) == stored.map(\.id) && read.map(\.occurredAt) == timed.map(\.occurredAt))
            #expect(read[1].tenantID == Self.tenantA.value && read[0].tenantID == nil)
        }
    }
}

/// Row-level security: a query in tenant A's context never reads or changes tenant B's rows,
/// even when it names them by id.
@Suite(.enabled(if: PostgresTestDatabase.available, "needs the PostgreSQL cluster scripts/test starts"))
struct RowLevelSecurityTests {
    /// Sealed integration credentials: a tenant's context sees, changes and deletes none of
    /// another tenant's rows even with a query that does not filter by tenant.
    @Test func integrationSecretsStayInTheirTenant() async throws {
        let logger = RepositoryTests.quiet
        try await RepositoryTests.withPostgres { store in
            let records = PostgresSealedRecords(store, logger: logger)
            try await records.store("v1:a:AAAA", tenant: RepositoryTests.tenantA, integration: "stripe")
            let seenByB = try await store.inScope(.tenant(RepositoryTests.tenantB)) { connection in
                var rows = 0
                for try await _ in try await connection.query("SELECT envelope FROM integration_secrets", logger: logger).decode(String.self) { rows += 1 }
                var changed = 0
                for try await _ in try await connection.query("UPDATE integration_secrets SET envelope = 'x' RETURNING integration", logger: logger).decode(String.self) { changed += 1 }
                for try await _ in try await connection.query("DELETE FROM integration_secrets RETURNING integration", logger: logger).decode(String.self) { changed += 1 }
                return (rows, changed)
            }
            #expect(seenByB.0 == 0 && seenByB.1 == 0)
            #expect(try await records.envelope(tenant: RepositoryTests.tenantA, integration: "stripe") == "v1:a:AAAA")
            await #expect(throws: PSQLError.self) {
                try await store.inScope(.tenant(RepositoryTests.tenantB)) { connection in
                    try await connection.query(
                        "INSERT INTO integration_secrets (tenant_id, integration, envelope) VALUES (\(TestTokens.tenantA)::uuid, 'evil', 'x')", logger: logger)
                }
            }
        }
    }

    @Test func aTenantContextCannotSeeOrTouchAnotherTenantsRows() async throws {
        try await RepositoryTests.withPostgres { store in
            _ = try await store.insert(RepositoryTests.service("crm", tenant: RepositoryTests.tenantA))
            _ = try await store.insert(RepositoryTests.service("crm", tenant: RepositoryTests.tenantB))
            _ = try await store.insert(RepositoryTests.service("shared"))
            // The runtime role owns nothing: the policies are what stands between tenants.
            let owner = try await store.inScope(.platform) { connection in
                var name = ""
                for try await n in try await connection.query("SELECT tableowner FROM pg_tables WHERE tablename = 'services'", logger: RepositoryTests.quiet).decode(String.self) { name = n }
                return name
            }
            #expect(owner == "brain_owner")
            let idOfB = try await store.inScope(.platform) { connection in
                var id: Int64 = 0
                for try await i in try await connection.query("SELECT id FROM services WHERE tenant_id = \(TestTokens.tenantB)::uuid", logger: RepositoryTests.quiet).decode(Int64.self) { id = i }
                return id
            }
            #expect(idOfB > 0)

            let seenByA = try await store.inScope(.tenant(RepositoryTests.tenantA)) { connection in
                var rows: [String] = []
                for try await (name, tenant) in try await connection.query("SELECT name, COALESCE(tenant_id::text, '') FROM services ORDER BY id", logger: RepositoryTests.quiet).decode((String, String).self) {
                    rows.append(name + "@" + tenant)
                }
                var byID = 0
                for try await _ in try await connection.query("SELECT id FROM services WHERE id = \(idOfB)", logger: RepositoryTests.quiet).decode(Int64.self) { byID += 1 }
                var updated = 0
                for try await _ in try await connection.query("UPDATE services SET document = 'x' WHERE id = \(idOfB) RETURNING id", logger: RepositoryTests.quiet).decode(Int64.self) { updated += 1 }
                var deleted = 0
                for try await _ in try await connection.query("DELETE FROM services WHERE id = \(idOfB) RETURNING id", logger: RepositoryTests.quiet).decode(Int64.self) { deleted += 1 }
                // Nor may it change global rows it can read.
                var globalUpdated = 0
                for try await _ in try await connection.query("UPDATE services SET version = 99 WHERE tenant_id IS NULL RETURNING id", logger: RepositoryTests.quiet).decode(Int64.self) { globalUpdated += 1 }
                return (rows, byID, updated, deleted, globalUpdated)
            }
            #expect(seenByA.0 == ["crm@\(TestTokens.tenantA)", "shared@"])
            #expect(seenByA.1 == 0 && seenByA.2 == 0 && seenByA.3 == 0 && seenByA.4 == 0)
            // Writing a row for another tenant is refused by the policy's WITH CHECK.
            await #expect(throws: PSQLError.self) {
                try await store.inScope(.tenant(RepositoryTests.tenantA)) { connection in
                    try await connection.query("INSERT INTO services (tenant_id, name, document, version) VALUES (\(TestTokens.tenantB)::uuid, 'evil', '{}', 1)", logger: RepositoryTests.quiet)
                }
            }
            // B's row is intact, as B sees it.
            let b = try await store.find(name: ServiceName("crm"), tenant: RepositoryTests.tenantB)
            #expect(b?.version == 1)
            // The repository API in A's scope cannot reach B's service either.
            await #expect(throws: RepositoryError.self) {
                try await store.inScope(.tenant(RepositoryTests.tenantA)) { connection in
                    var n = 0
                    for try await _ in try await connection.query("SELECT id FROM services WHERE tenant_id = \(TestTokens.tenantB)::uuid", logger: RepositoryTests.quiet).decode(Int64.self) { n += 1 }
                    if n == 0 { throw RepositoryError.notFound(name: "crm") }
                }
            }
        }
    }
}

/// The run stores, against both databases: round trip, tenant scope, idempotency claims, retention.
@Suite struct RunRepositoryTests {
    static func withRunStore(_ kind: RepositoryTests.Store, _ body: @Sendable (any WorkflowRunRepository) async throws -> Void) async throws {
        let logger = RepositoryTests.quiet
        switch kind {
        case .sqlite:
            let store = try await SQLiteRegistryStore.open(path: NSTemporaryDirectory() + "runs-\(UUID().uuidString).sqlite", reader: RepositoryTests.reader, logger: logger)
            do { try await body(SQLiteRunStore(store)) } catch { await store.close(); throw error }
            await store.close()
        case .postgres:
            guard PostgresTestDatabase.available else { return }
            try await RepositoryTests.withPostgres { store in try await body(PostgresRunStore(store, logger: logger)) }
        }
    }

    static func run(_ tenant: TenantID, startedAt: Double, status: WorkflowRun.Status = .running) -> WorkflowRun {
        var run = WorkflowRun(
            id: UUID().uuidString.lowercased(), workflow: try! ServiceName("lead"), workflowTenant: nil, tenant: tenant, startedAt: startedAt,
            input: .object(["name": .string("Ada \"quoted\"\n")]), caller: .object(["sub": .string("u")]), traceparent: nil,
            steps: [StepRun(id: "a"), StepRun(id: "b")])
        run.status = status
        if status.isFinished { run.finishedAt = startedAt + 1 }
        run.steps[0].state = .succeeded
        run.steps[0].body = .object(["id": .number(7), "list": .array([.bool(true), .null])])
        return run
    }

    @Test(arguments: RepositoryTests.Store.allCases)
    func runsRoundTripStayInTheirTenantAndExpire(store kind: RepositoryTests.Store) async throws {
        try await Self.withRunStore(kind) { store in
            let a = RepositoryTests.tenantA, b = RepositoryTests.tenantB
            let now = Date().timeIntervalSince1970
            var recent = Self.run(a, startedAt: now)
            #expect(try await store.create(recent, idempotency: RunIdempotency(key: "k", bodyDigest: "d1")) == nil)
            recent.steps[1].state = .running
            recent.steps[1].attempts = 2
            try await store.save(recent)
            #expect(try await store.run(id: recent.id, tenant: a, allTenants: false) == recent)
            #expect(try await store.run(id: recent.id, tenant: b, allTenants: false) == nil)
            #expect(try await store.run(id: recent.id, tenant: b, allTenants: true) == recent)
            // The same key again: the first run and its digest, nothing stored.
            let claimed = try #require(try await store.create(Self.run(a, startedAt: now), idempotency: RunIdempotency(key: "k", bodyDigest: "d2")))
            #expect(claimed.existing.id == recent.id && claimed.digest == "d1")
            // Another tenant's same key is another key.
            #expect(try await store.create(Self.run(b, startedAt: now), idempotency: RunIdempotency(key: "k", bodyDigest: "d1")) == nil)
            // Retention: finished and old → gone; running or recent → kept.
            let old = Self.run(a, startedAt: now - 90 * 86_400, status: .succeeded)
            let oldRunning = Self.run(a, startedAt: now - 90 * 86_400)
            for r in [old, oldRunning] { #expect(try await store.create(r, idempotency: nil) == nil) }
            #expect(try await store.forgetRuns(startedBefore: now - 30 * 86_400) == 1)
            let left = try await store.runs(RunQuery(tenant: a)).map(\.id)
            #expect(Set(left) == [recent.id, oldRunning.id] && left.first == recent.id)
            #expect(Set(try await store.unfinished().map(\.id)).isSuperset(of: [recent.id, oldRunning.id]))
        }
    }

    /// A key claimed for a run whose row then could not be written is released: the next
    /// request with it runs, instead of hearing "in progress" for a day.
    @Test func aKeyIsReleasedWhenItsRunCannotBeStored() async throws {
        let store = try await SQLiteRegistryStore.open(
            path: NSTemporaryDirectory() + "runs-\(UUID().uuidString).sqlite", reader: RepositoryTests.reader, logger: RepositoryTests.quiet)
        let runs = SQLiteRunStore(store)
        let key = RunIdempotency(key: "k", bodyDigest: "d")
        _ = try await store.connection.query("ALTER TABLE workflow_runs RENAME TO workflow_runs_away")
        await #expect(throws: (any Error).self) { _ = try await runs.create(Self.run(RepositoryTests.tenantA, startedAt: 1), idempotency: key) }
        _ = try await store.connection.query("ALTER TABLE workflow_runs_away RENAME TO workflow_runs")
        let again = Self.run(RepositoryTests.tenantA, startedAt: 2)
        #expect(try await runs.create(again, idempotency: key) == nil)
        #expect(try await runs.run(id: again.id, tenant: RepositoryTests.tenantA, allTenants: false)?.id == again.id)
        await store.close()
    }

    /// Many runs writing at once (the engine's load): every write lands, each run ends as its
    /// last write left it, and a failing batch fails only its own writers.
    @Test(arguments: RepositoryTests.Store.allCases)
    func concurrentWritesAllLandAsTheirLastWrite(store kind: RepositoryTests.Store) async throws {
        try await Self.withRunStore(kind) { store in
            let now = Date().timeIntervalSince1970
            let runs = (0..<120).map { _ in Self.run(RepositoryTests.tenantA, startedAt: now) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for run in runs {
                    group.addTask {
                        var run = run
                        #expect(try await store.create(run, idempotency: nil) == nil)
                        for attempt in 1...3 {
                            run.steps[1].state = .running
                            run.steps[1].attempts = attempt
                            try await store.save(run)
                        }
                        run.status = .succeeded
                        run.steps[1].state = .succeeded
                        try await store.save(run)
                    }
                }
                try await group.waitForAll()
            }
            for run in runs {
                let stored = try #require(try await store.run(id: run.id, tenant: RepositoryTests.tenantA, allTenants: false))
                #expect(stored.status == .succeeded && stored.steps[1].attempts == 3 && stored.steps[1].state == .succeeded)
            }
        }
    }
}
