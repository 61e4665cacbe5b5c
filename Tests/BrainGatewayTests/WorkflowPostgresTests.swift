import Foundation
import PostgresNIO
import Testing

/// Workflows on the shared store: definitions propagate between replicas, runs and their
/// idempotency keys are shared, and row-level security keeps one tenant's runs from another.
@Suite(.enabled(if: PostgresTestDatabase.available, "needs the PostgreSQL cluster scripts/test starts"))
struct WorkflowPostgresTests {
    /// How many runs the runtime role sees in `tenant`'s context: row-level security decides.
    static func visibleRuns(in database: PostgresTestDatabase, tenant: String) async throws -> Int {
        try await database.withClient(user: "brain_gateway") { client in
            try await client.withTransaction(logger: Logger(label: "test")) { connection in
                try await connection.query("SELECT set_config('app.current_tenant_id', \(tenant), true)", logger: Logger(label: "test"))
                var count = -1
                for try await n in try await connection.query("SELECT count(*)::int FROM workflow_runs", logger: Logger(label: "test")).decode(Int.self) { count = n }
                return count
            }
        }
    }

    @Test func replicasShareDefinitionsRunsAndKeysAndTenantsStayApart() async throws {
        let database = try await PostgresTestDatabase.create()
        let backend = try await ScriptedBackend { _ in .json(#"{"id": "L-7"}"#, status: 201) }
        let yaml = "services:\n  - {name: crm, url: \(backend.url), base_path: /crm}\n"
        let environment = ["DATABASE_URL": database.gatewayURL, "BRAIN_GATEWAY_MIGRATION_DATABASE_URL": database.ownerURL]
        let a = try await GatewayProcess(yaml: yaml, environment: environment)
        let b = try await GatewayProcess(yaml: yaml, environment: environment)
        try await withTeardown {
            // Defined on A, runnable on B within a second.
            let definition = #"{"name": "lead", "steps": [{"id": "create", "call": {"service": "crm", "method": "POST", "path": "/leads"}}], "response": {"status": 200, "body": {"lead": "{{ steps.create.body.id }}"}}}"#
            #expect(try await ReplicaPropagationTests.admin(a.port, "POST", "/api/brain/workflows", body: definition).status == 201)
            let run = "POST /api/brain/workflows/lead/runs HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k-1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
            var first: RawResponse?
            let started = ContinuousClock.now
            while ContinuousClock.now - started < .seconds(1) {
                let r = try await b.send(run)
                if r.status == 200 { first = r; break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let answer = try #require(first, "the workflow defined on A did not run on B within 1 s")
            #expect(answer.text == #"{"lead":"L-7"}"#)
            let id = try #require(answer.header("X-Brain-Run-ID"))
            // The key is shared: A replays B's run.
            let replay = try await a.send(run)
            #expect(replay.status == 200 && replay.header("Idempotent-Replayed") == "true" && replay.header("X-Brain-Run-ID") == id)
            #expect(backend.requests.count == 1)
            // Tenant A reads its run on either replica; tenant B on neither.
            let tenantB = TestTokens.make(sub: "b", tenant: TestTokens.tenantB)
            for port in [a.port, b.port] {
                let own = try await RawHTTP.send(port: port, TestTokens.authorize("GET /api/brain/runs/\(id) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                #expect(own.status == 200)
                let other = try await RawHTTP.send(port: port, TestTokens.authorize("GET /api/brain/runs/\(id) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", token: tenantB))
                #expect(other.status == 404)
            }
            // And the database enforces it: as the runtime role in tenant B's context, no run is visible.
            #expect(try await Self.visibleRuns(in: database, tenant: TestTokens.tenantB) == 0)
            #expect(try await Self.visibleRuns(in: database, tenant: TestTokens.tenantA) == 1)
            // Removed on B, gone on A.
            #expect(try await ReplicaPropagationTests.admin(b.port, "DELETE", "/api/brain/workflows/lead").status == 204)
            var gone = false
            let removed = ContinuousClock.now
            while !gone, ContinuousClock.now - removed < .seconds(1) {
                gone = try await ReplicaPropagationTests.admin(a.port, "GET", "/api/brain/workflows/lead").status == 404
                if !gone { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(gone, "the removal on B did not reach A within 1 s")
        } teardown: {
            await a.stop()
            await b.stop()
            await backend.shutdown()
        }
    }
}
