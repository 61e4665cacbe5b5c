import Foundation
import NIOCore
import Testing

/// Three gateway processes on one real Redis: a limit means the same with three replicas as
/// with one, and losing Redis — stopped, or frozen so that calls hang — never costs a 5xx.
@Suite(.enabled(if: RedisTestServer.available, "needs redis-server (scripts/test installs it)"), .serialized)
struct SharedRateLimitTests {
    static let limit = 100

    static func yaml(backend: String) -> String {
        "services:\n  - {name: svc, url: \(backend), base_path: /base, rate_limit: {requests: \(limit), window_seconds: 60}}\n"
    }

    static func replicas(redis: RedisTestServer, backend: String, extra: [String: String] = [:]) async throws -> [GatewayProcess] {
        var environment = ["REDIS_URL": redis.url, "REDIS_TIMEOUT_MS": "100"]
        for (k, v) in extra { environment[k] = v }
        var gateways: [GatewayProcess] = []
        for _ in 0..<3 { gateways.append(try await GatewayProcess(yaml: yaml(backend: backend), environment: environment)) }
        // Each replica counts the others by their heartbeats (one a second).
        let started = ContinuousClock.now
        for gateway in gateways {
            while try await metric(gateway, "brain_gateway_shared_state_replicas") != 3, ContinuousClock.now - started < .seconds(5) {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        return gateways
    }

    static func get(_ gateway: GatewayProcess) async throws -> RawResponse {
        try await gateway.send("GET /svc/item HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout: .seconds(5))
    }

    static func metric(_ gateway: GatewayProcess, _ name: String) async throws -> Double? {
        let text = try await gateway.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    static func events(_ gateway: GatewayProcess, type: String) async throws -> Int {
        let response = try await gateway.send("GET /api/brain/events?type=\(type) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", token: TestTokens.admin)
        let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        return (json?["events"] as? [Any])?.count ?? -1
    }

    @Test func threeReplicasTogetherAdmitTheLimitOnce() async throws {
        let redis = try await RedisTestServer()
        let backend = try await ScriptedBackend { _ in .json(#"{"ok":true}"#) }
        let gateways = try await Self.replicas(redis: redis, backend: backend.url)
        try await withTeardown {
            var admitted = 0
            var refused = 0
            var lastRemaining: [Int] = []
            for i in 0..<300 {
                let response = try await Self.get(gateways[i % 3])
                switch response.status {
                case 200:
                    admitted += 1
                    lastRemaining.append(Int(response.header("RateLimit-Remaining") ?? "") ?? -1)
                case 429:
                    refused += 1
                    #expect(response.header("RateLimit-Remaining") == "0")
                    #expect(response.header("Retry-After") != nil)
                default: Issue.record("status \(response.status)")
                }
            }
            #expect((95...105).contains(admitted), "admitted \(admitted) of 300 with a limit of 100 over three replicas")
            #expect(admitted + refused == 300)
            // Remaining counts down across the replicas, as on one.
            #expect(lastRemaining.prefix(5) == [99, 98, 97, 96, 95])
            #expect(try await Self.metric(gateways[0], "brain_gateway_shared_state_up") == 1)
            #expect(try await Self.metric(gateways[0], "brain_gateway_shared_state_replicas") == 3)
        } teardown: {
            for g in gateways { await g.stop() }
            await redis.stop()
            await backend.shutdown()
        }
    }

    @Test func sixtyFourConcurrentClientsStillAdmitTheLimitOnce() async throws {
        let redis = try await RedisTestServer()
        let backend = try await ScriptedBackend { _ in .json(#"{"ok":true}"#) }
        let gateways = try await Self.replicas(redis: redis, backend: backend.url)
        try await withTeardown {
            let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
                for client in 0..<64 {
                    group.addTask {
                        var statuses: [Int] = []
                        for i in 0..<5 where client * 5 + i < 300 {
                            statuses.append(try await Self.get(gateways[(client + i) % 3]).status)
                        }
                        return statuses
                    }
                }
                var all: [Int] = []
                for try await s in group { all += s }
                return all
            }
            let admitted = statuses.filter { $0 == 200 }.count
            let unexpected = statuses.filter { $0 != 200 && $0 != 429 }
            #expect(unexpected.isEmpty, "statuses other than 200 and 429: \(unexpected)")
            #expect((95...105).contains(admitted), "admitted \(admitted) of \(statuses.count)")
        } teardown: {
            for g in gateways { await g.stop() }
            await redis.stop()
            await backend.shutdown()
        }
    }

    /// Redis stopped mid-run, then frozen (SIGSTOP: connections stay open, nothing answers):
    /// no 5xx, each replica admits its share (⌈100 ÷ 3⌉ = 34), ready stays 200 and says so,
    /// the metric and the event appear; Redis back → shared counting again within 5 s.
    @Test(arguments: [false, true])
    func losingRedisDegradesToEachReplicasShare(frozen: Bool) async throws {
        let redis = try await RedisTestServer()
        let backend = try await ScriptedBackend { _ in .json(#"{"ok":true}"#) }
        let gateways = try await Self.replicas(redis: redis, backend: backend.url)
        try await withTeardown {
            // Shared: 30 requests use 30 of the 100.
            for i in 0..<30 { #expect(try await Self.get(gateways[i % 3]).status == 200) }
            if frozen { redis.freeze() } else { await redis.stop() }
            var perReplica = [0, 0, 0]
            for i in 0..<240 {
                let response = try await Self.get(gateways[i % 3])
                #expect(response.status == 200 || response.status == 429, "status \(response.status) with Redis \(frozen ? "frozen" : "stopped")")
                if response.status == 200 { perReplica[i % 3] += 1 }
            }
            // A replica's first request may still have been decided in Redis before it noticed.
            for admitted in perReplica { #expect((30...35).contains(admitted), "admitted \(perReplica) per replica") }
            for gateway in gateways {
                #expect(try await Self.metric(gateway, "brain_gateway_shared_state_up") == 0)
                let ready = try await gateway.send("GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                #expect(ready.status == 200)
                #expect(ready.text.contains(#""redis":"degraded""#))
                #expect(try await Self.events(gateway, type: "SharedStateDegraded") == 1)
            }
            if frozen { redis.thaw() } else { try await redis.start() }
            let back = ContinuousClock.now
            for gateway in gateways {
                while try await Self.metric(gateway, "brain_gateway_shared_state_up") != 1 {
                    #expect(ContinuousClock.now - back < .seconds(5), "not shared again within 5 s")
                    if ContinuousClock.now - back > .seconds(6) { return }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(try await Self.events(gateway, type: "SharedStateRestored") == 1)
            }
            // Shared again: a restarted Redis lost the counts, a thawed one kept them (30 used).
            var admitted = 0
            for i in 0..<150 where try await Self.get(gateways[i % 3]).status == 200 { admitted += 1 }
            #expect((frozen ? 65...75 : 95...105).contains(admitted), "admitted \(admitted) once Redis was back")
        } teardown: {
            redis.thaw()
            for g in gateways { await g.stop() }
            await redis.stop()
            await backend.shutdown()
        }
    }

    @Test func closedModeRefusesAndOpenModeAdmitsWithoutRedis() async throws {
        for (mode, expected) in [("closed", 429), ("open", 200)] {
            let redis = try await RedisTestServer()
            let backend = try await ScriptedBackend { _ in .json(#"{"ok":true}"#) }
            let gateway = try await GatewayProcess(
                yaml: Self.yaml(backend: backend.url), environment: ["REDIS_URL": redis.url, "REDIS_FAILURE_MODE": mode, "REDIS_TIMEOUT_MS": "100"])
            try await withTeardown {
                #expect(try await Self.get(gateway).status == 200)
                await redis.stop()
                _ = try await Self.get(gateway)
                for _ in 0..<150 { #expect(try await Self.get(gateway).status == expected, "mode \(mode)") }
            } teardown: {
                await gateway.stop()
                await redis.stop()
                await backend.shutdown()
            }
        }
    }

    @Test func aPasswordAndDatabaseAreUsedAndAWrongPasswordDegrades() async throws {
        let redis = try await RedisTestServer(password: "s3cret-pass")
        let backend = try await ScriptedBackend { _ in .json(#"{"ok":true}"#) }
        let good = try await GatewayProcess(yaml: Self.yaml(backend: backend.url), environment: ["REDIS_URL": redis.url + "/3"])
        let bad = try await GatewayProcess(
            yaml: Self.yaml(backend: backend.url), environment: ["REDIS_URL": "redis://:wrong@127.0.0.1:\(redis.port)", "LOG_LEVEL": "trace"])
        try await withTeardown { () async throws in
            #expect(try await Self.get(good).status == 200)
            #expect(try await Self.metric(good, "brain_gateway_shared_state_up") == 1)
            #expect(try await Self.get(bad).status == 200)
            #expect(try await Self.metric(bad, "brain_gateway_shared_state_up") == 0)
            // The password never appears in what the gateway prints.
            #expect(!bad.allErrorOutput().contains("wrong@") && !good.allErrorOutput().contains("s3cret-pass"))
            #expect(!bad.standardOutput().contains("wrong@"))
        } teardown: {
            await good.stop()
            await bad.stop()
            await redis.stop()
            await backend.shutdown()
        }
    }

    @Test func aBadRedisSettingStopsTheStartNamingIt() async throws {
        for (variable, value) in [("REDIS_URL", "redis://host:99999"), ("REDIS_FAILURE_MODE", "maybe"), ("REDIS_TIMEOUT_MS", "0")] {
            var environment = ["REDIS_URL": "redis://127.0.0.1:1"]
            environment[variable] = value
            let gateway = try await GatewayProcess(yaml: nil, environment: environment, waitUntilReady: false)
            let status = await gateway.waitForExit(timeout: .seconds(20))
            #expect(status != nil && status != 0)
            let output = gateway.allErrorOutput()
            #expect(output.contains(variable), "\(variable): \(output)")
            await gateway.stop()
        }
    }

    /// A response cached by replica A is a hit on replica B (with its age); a POST through B
    /// makes A's next GET a miss.
    @Test func replicasShareTheResponseCacheAndItsInvalidation() async throws {
        let redis = try await RedisTestServer()
        let backend = try await ScriptedBackend { request in
            var reply = ScriptedBackend.Reply.json(#"{"version":"\#(request.method)"}"#)
            if request.method == "GET" { reply.headers = [("Cache-Control", request.uri.contains("private") ? "no-store" : "max-age=60"), ("Vary", "Accept-Language")] }
            return reply
        }
        let yaml = "services:\n  - {name: svc, url: \(backend.url), base_path: /base, rate_limit: {requests: 100000, window_seconds: 60}}\n"
        let environment = ["REDIS_URL": redis.url]
        let a = try await GatewayProcess(yaml: yaml, environment: environment)
        let b = try await GatewayProcess(yaml: yaml, environment: environment)
        try await withTeardown {
            func get(_ gateway: GatewayProcess, language: String = "en") async throws -> RawResponse {
                try await gateway.send("GET /svc/doc?x=1 HTTP/1.1\r\nHost: x\r\nAccept-Language: \(language)\r\nConnection: close\r\n\r\n")
            }
            #expect(try await get(a).header("X-Cache") == "MISS")
            #expect(try await get(a).header("X-Cache") == "HIT")
            let onB = try await get(b)
            #expect(onB.header("X-Cache") == "HIT", "stored by A, served by B")
            #expect(onB.text == #"{"version":"GET"}"#)
            #expect(onB.header("Age") != nil)
            // Another variant (Vary: Accept-Language) is not the stored one.
            #expect(try await get(b, language: "de").header("X-Cache") == "MISS")
            #expect(backend.requests.filter { $0.method == "GET" }.count == 2)
            // Tenants never share entries.
            let otherTenant = try await b.send("GET /svc/doc?x=1 HTTP/1.1\r\nHost: x\r\nAccept-Language: en\r\nConnection: close\r\n\r\n", token: TestTokens.make(sub: "user-b", tenant: TestTokens.tenantB))
            #expect(otherTenant.header("X-Cache") == "MISS")
            // An unsafe method through B: A drops its copy (published) and Redis's.
            #expect(try await b.send("POST /svc/doc?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}").status == 200)
            let started = ContinuousClock.now
            var afterPost = try await get(a)
            while afterPost.header("X-Cache") == "HIT", ContinuousClock.now - started < .seconds(2) {
                try await Task.sleep(for: .milliseconds(50))
                afterPost = try await get(a)
            }
            #expect(afterPost.header("X-Cache") == "MISS", "A still served its copy after B's POST")
            #expect(ContinuousClock.now - started < .seconds(1))
            // A target whose answers may not be stored costs no cache round trip per request:
            // 20 requests, 20 rate-limit calls, a heartbeat or two — not 40.
            _ = try await a.send("GET /svc/private HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let before = try await Self.metric(a, "brain_gateway_redis_calls_total{result=\"ok\"}") ?? 0
            for _ in 0..<20 { #expect(try await a.send("GET /svc/private HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").header("X-Cache") == "MISS") }
            let calls = (try await Self.metric(a, "brain_gateway_redis_calls_total{result=\"ok\"}") ?? 0) - before
            #expect(calls >= 20 && calls < 30, "\(calls) Redis calls for 20 uncacheable requests")
        } teardown: {
            await a.stop()
            await b.stop()
            await redis.stop()
            await backend.shutdown()
        }
    }

    /// `rediss://`: verified against the system's roots plus `REDIS_CA_FILE`; an untrusted
    /// certificate is a Redis that cannot be used (degraded), never a failed request.
    @Test func tlsToRedisIsVerified() async throws {
        let files = try await HTTPSUpstreamTests.makeCertificate()
        let redis = try await RedisTestServer(tls: files)
        let backend = try await ScriptedBackend { _ in .json(#"{"ok":true}"#) }
        let trusted = try await GatewayProcess(yaml: Self.yaml(backend: backend.url), environment: ["REDIS_URL": redis.url, "REDIS_CA_FILE": files.cert])
        let untrusted = try await GatewayProcess(yaml: Self.yaml(backend: backend.url), environment: ["REDIS_URL": redis.url])
        try await withTeardown {
            let first = try await Self.get(trusted)
            #expect(first.status == 200)
            #expect(first.header("RateLimit-Remaining") == "99")
            #expect(try await Self.get(trusted).header("RateLimit-Remaining") == "98")
            #expect(try await Self.metric(trusted, "brain_gateway_shared_state_up") == 1)
            #expect(try await Self.get(untrusted).status == 200)
            #expect(try await Self.metric(untrusted, "brain_gateway_shared_state_up") == 0)
        } teardown: {
            await trusted.stop()
            await untrusted.stop()
            await redis.stop()
            await backend.shutdown()
        }
    }

    /// A workflow's step calls count against the same shared limit as proxied requests.
    @Test func workflowStepsCountAgainstTheSharedLimit() async throws {
        let redis = try await RedisTestServer()
        let backend = try await ScriptedBackend { _ in .json(#"{"ok":true}"#) }
        let yaml = Self.yaml(backend: backend.url) + """
            workflows:
              - name: fetch
                steps:
                  - {id: item, call: {service: svc, method: GET, path: /item}}
                response: {status: 200, body: {ok: "{{ steps.item.body.ok }}"}}

            """
        let a = try await GatewayProcess(yaml: yaml, environment: ["REDIS_URL": redis.url])
        let b = try await GatewayProcess(yaml: yaml, environment: ["REDIS_URL": redis.url])
        try await withTeardown {
            for _ in 0..<3 {
                let run = try await b.send("POST /api/brain/workflows/fetch/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
                #expect(run.status == 200, "\(run.text)")
            }
            #expect(try await Self.get(a).header("RateLimit-Remaining") == "96", "three steps through B and this request through A")
        } teardown: {
            await a.stop()
            await b.stop()
            await redis.stop()
            await backend.shutdown()
        }
    }
}
