import Foundation
import Testing

/// 2,000 requests at once across healthy and faulty instances: every client gets exactly its
/// own response, or a clean JSON error — nothing lost, nothing mixed up.
@Suite struct ConcurrencyUnderFaultsTests {
    @Test func twoThousandConcurrentRequestsEachGetTheirOwnAnswer() async throws {
        let good1 = try await TestBackend()
        let good2 = try await TestBackend()
        let flapping = try await TestBackend()
        let slow = try await TestBackend()
        slow.delayMilliseconds = 50
        let dead = RefusingPort()
        let gateway = try await GatewayHarness.start(yaml: """
            services:
              - name: svc
                instances: [\(good1.url), \(good2.url), \(flapping.url), \(slow.url), http://127.0.0.1:\(dead.port)]
                timeout_ms: 5000
                rate_limit: {requests: 1000000, window_seconds: 60}
                circuit_breaker: {failure_threshold: 3, open_seconds: 1}
            """)
        // The flapping instance alternates between resetting connections, 500s and answering.
        let flapper = Task {
            var round = 0
            while !Task.isCancelled {
                flapping.failure = [nil, .reset, .status500][round % 3]
                round += 1
                try? await Task.sleep(for: .milliseconds(15))
            }
        }
        // Thousands of sockets at once: no child process may be launched meanwhile (see ProcessLaunch).
        let outcomes = try await ProcessLaunch.withoutLaunches { try await withThrowingTaskGroup(of: (Int, Int, String).self) { group in
            for i in 0..<2000 {
                group.addTask {
                    let r: RawResponse
                    if i % 2 == 0 {
                        r = try await gateway.send("GET /svc/item-\(i) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout: .seconds(60))
                    } else {
                        let body = "payload-\(i)"
                        r = try await gateway.send(
                            "POST /svc/echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)",
                            timeout: .seconds(60))
                    }
                    return (i, r.status, r.text)
                }
            }
            var all: [(Int, Int, String)] = []
            for try await outcome in group { all.append(outcome) }
            return all
        } }
        flapper.cancel()
        #expect(outcomes.count == 2000)
        #expect(Set(outcomes.map(\.0)).count == 2000)
        var ok = 0
        var errors: [Int: Int] = [:]
        for (i, status, text) in outcomes {
            if status == 200 {
                ok += 1
                let expected = i % 2 == 0 ? "{\"path\":\"/item-\(i)\"}" : "payload-\(i)"
                #expect(text == expected, "request \(i) got someone else's answer: \(text)")
            } else if status == 500 {
                // The flapping instance's own 500, relayed as it was sent.
                #expect(text == "{\"status\":500}", "request \(i): \(text)")
                errors[status, default: 0] += 1
            } else {
                #expect([502, 503, 504].contains(status), "request \(i): \(status)")
                let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
                #expect(json?["error"] != nil && json?["request_id"] != nil, "request \(i): \(text)")
                errors[status, default: 0] += 1
            }
        }
        #expect(ok > 1000, "ok \(ok), errors \(errors)")
        // The faults were really met (the dead instance alone fails POSTs until its breaker opens).
        #expect(errors.values.reduce(0, +) > 0, "ok \(ok), errors \(errors)")
        print("concurrency under faults: \(ok) ok, errors by status \(errors)")
        await gateway.stop()
        for backend in [good1, good2, flapping, slow] { await backend.shutdown() }
        withExtendedLifetime(dead) {}
    }
}
