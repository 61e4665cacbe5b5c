import Foundation
import Testing

/// The operator dashboard in real headless Chromium (Debian's `chromium`), against a gateway
/// with traffic: what a person would see after the page has loaded and refreshed.
@Suite(.enabled(if: Chromium.path != nil, "needs Debian's chromium (scripts/test installs it)"))
struct DashboardTests {
    /// The DOM after the page ran for `seconds` in Chromium, read through the DevTools
    /// protocol (Fixtures/render_page.py): the page's live event stream stays open meanwhile,
    /// as it does for a person looking at it.
    static func render(_ url: String, seconds: Double = 4) async throws -> String {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/render_page.py")
        let result = try await ChildProcess.runCapturing("/usr/bin/env", ["python3", script.path, try #require(Chromium.path), url, String(seconds)])
        #expect(result.status == 0, "\(result.errors)")
        return result.output
    }

    @Test func theDashboardShowsServicesBreakersTrafficAndEvents() async throws {
        let dead = RefusingPort()
        try await withGateway(services: { b in
            """
            services:
              - {name: orders, url: \(b.url)}
              - {name: billing, url: "http://127.0.0.1:\(dead.port)", circuit_breaker: {failure_threshold: 2, open_seconds: 300}}
            """
        }) { gateway, _ in
            for _ in 0..<3 { _ = try await gateway.send("GET /orders/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") }
            for _ in 0..<2 { _ = try await gateway.send("POST /billing/x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n") }
            #expect(await gateway.gateway.journal.flushed())

            // Traffic goes on while the page is open, so its per-service rate and latency (the
            // difference between two refreshes) have something to show.
            let steady = Task {
                var sent = 0
                while !Task.isCancelled {
                    _ = try? await gateway.send("GET /orders/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    sent += 1
                    try? await Task.sleep(for: .milliseconds(50))
                }
                return sent
            }
            let dom = try await Self.render("\(gateway.base)/dashboard#token=\(TestTokens.admin)")
            steady.cancel()
            #expect(await steady.value > 0)
            // The board, not the login form.
            #expect(dom.contains("<main id=\"board\">"), "\(dom.prefix(400))")
            // Both services, with the failing one's breaker open and the healthy one's closed.
            let orders = try #require(Self.row(dom, service: "orders"))
            #expect(orders.contains(">healthy<") && orders.contains(">closed<"))
            #expect((Int(Self.metric("requests", in: orders) ?? "") ?? 0) > 3, "\(orders)")
            let billing = try #require(Self.row(dom, service: "billing"))
            #expect(billing.contains(">open<") && billing.contains(">down<"))
            // Live traffic: orders has a rate, a mean latency and a p95 bucket bound; billing,
            // idle meanwhile, a zero rate and no latency.
            let rate = try #require(Double(Self.metric("rate", in: orders) ?? ""), "\(orders)")
            #expect(rate > 1, "\(orders)")
            let latency = try #require(Double(Self.metric("latency", in: orders) ?? ""), "\(orders)")
            #expect(latency > 0 && latency < 1000)
            #expect(Self.metric("p95", in: orders)?.hasPrefix("≤ ") == true, "\(orders)")
            #expect(Self.metric("rate", in: billing) == "0.0")
            #expect(Self.metric("latency", in: billing) == "–")
            // Totals and the event feed.
            #expect((Int(Self.stat("total", in: dom) ?? "") ?? 0) > 5, "5 before the page opened, more while it was open")
            #expect((Double(Self.stat("rate", in: dom) ?? "") ?? 0) > 1)
            #expect(dom.contains("<b id=\"activations\">1</b>"))
            #expect(dom.contains("data-type=\"CircuitOpened\""))
            #expect(dom.contains("data-type=\"ServiceRegistered\""))
        }
        withExtendedLifetime(dead) {}
    }

    @Test func theDashboardShowsRecentRunsWithTheirStepTimeline() async throws {
        let backend = try await ScriptedBackend(reply: WorkflowTests.script(score: 90, delay: 100))
        let gateway = try await GatewayHarness.start(yaml: WorkflowTests.yaml(backend))
        try await withTeardown {
            let good = try await WorkflowTests.submit(gateway)
            backend.setReply(WorkflowTests.script(score: 90, crmStatus: 503))
            let bad = try await WorkflowTests.submit(gateway)
            #expect(good.status == 200 && bad.status == 502)
            let dom = try await Self.render("\(gateway.base)/dashboard#token=\(TestTokens.admin)", seconds: 3)
            let succeeded = try #require(Self.run(dom, id: good.header("X-Brain-Run-ID") ?? ""), "\(dom.prefix(600))")
            #expect(succeeded.contains(">contact-submit<") && succeeded.contains(">succeeded<"))
            for step in ["score", "cms", "crm", "notify"] {
                #expect(succeeded.contains("data-step=\"\(step)\" data-state=\"succeeded\""), "\(step): \(succeeded)")
            }
            let failed = try #require(Self.run(dom, id: bad.header("X-Brain-Run-ID") ?? ""))
            #expect(failed.contains(">failed<"))
            #expect(failed.contains("data-step=\"cms\" data-state=\"compensated\"") && failed.contains("data-step=\"crm\" data-state=\"failed\""))
            #expect(failed.contains("3 attempts"), "CRM was tried three times: \(failed)")
            #expect(dom.contains("data-type=\"WorkflowRunFailed\""))
        } teardown: {
            await gateway.stop()
            await backend.shutdown()
        }
    }

    @Test func theDashboardShowsTheTenantsConnectedIntegrationsWithoutValues() async throws {
        let (provider, _) = try await IntegrationProxyTests.provider()
        let gateway = try await GatewayHarness.start(yaml: IntegrationProxyTests.yaml(provider), sealer: .generated())
        try await withTeardown {
            let activated = try await IntegrationProxyTests.call(
                gateway, "PUT", "/api/brain/integrations/acme", body: #"{"credentials":{"api_key":"\#(IntegrationProxyTests.goodKey)"}}"#,
                token: TestTokens.admin)
            #expect(activated.status == 200)
            let dom = try await Self.render("\(gateway.base)/dashboard#token=\(TestTokens.admin)", seconds: 3)
            let row = try #require(dom.range(of: "<tr data-integration=\"acme\">").map { String(dom[$0.lowerBound...].prefix(400)) }, "\(dom.prefix(600))")
            #expect(row.contains(">payments<") && row.contains(">active<"))
            #expect(dom.contains("1 of ") && dom.contains(" integrations connected"))
            #expect(dom.contains("data-type=\"IntegrationActivated\""))
            #expect(!dom.contains(IntegrationProxyTests.goodKey))
        } teardown: {
            await gateway.stop()
            await provider.shutdown()
        }
    }

    @Test func theDashboardShowsTheOptimisersDecisions() async throws {
        try await OptimiserTests.withSlowReport(mode: "dry_run") { gateway, _ in
            for _ in 0..<2 {
                try await OptimiserTests.load(gateway, "/report/x", clients: 6, seconds: 1.6)
                _ = try await OptimiserTests.analyse(gateway)
            }
            let dom = try await Self.render("\(gateway.base)/dashboard#token=\(TestTokens.admin)", seconds: 3)
            #expect(dom.contains("mode dry_run, every 3600.0 s over 1.5 s") || dom.contains("mode dry_run, every 3600 s over 1.5 s"), "\(dom.prefix(600))")
            let row = try #require(dom.range(of: "data-action=\"call_agent\"").map { String(dom[$0.lowerBound...].prefix(600)) }, "\(dom.prefix(600))")
            #expect(row.contains(">report<") && row.contains(">optimize<") && row.contains(">recorded<"), "\(row)")
            #expect(dom.contains("<b id=\"decisions-count\">1</b>"))
            #expect(dom.contains("data-type=\"AutonomousDecision\""))
        }
    }

    /// The `<tr>` of the run `id`.
    static func run(_ dom: String, id: String) -> String? {
        guard let start = dom.range(of: "<tr data-run=\"\(id)\">") else { return nil }
        guard let end = dom.range(of: "</tr>", range: start.upperBound..<dom.endIndex) else { return nil }
        return String(dom[start.lowerBound..<end.upperBound])
    }

    @Test func withoutATokenTheDashboardAsksForOne() async throws {
        try await withGateway(services: { b in "services:\n  - {name: orders, url: \(b.url)}\n" }) { gateway, _ in
            let dom = try await Self.render("\(gateway.base)/dashboard", seconds: 2)
            #expect(dom.contains("<section id=\"login\">"))
            #expect(dom.contains("<main id=\"board\" hidden=\"\">"))
            let refused = try await Self.render("\(gateway.base)/dashboard#token=\(TestTokens.user)", seconds: 2)
            #expect(refused.contains("token refused (403)"))
        }
    }

    /// The text of the `data-metric` cell `name` in a table row.
    static func metric(_ name: String, in row: String) -> String? {
        guard let start = row.range(of: "<td data-metric=\"\(name)\">") else { return nil }
        guard let end = row.range(of: "</td>", range: start.upperBound..<row.endIndex) else { return nil }
        return String(row[start.upperBound..<end.lowerBound])
    }

    /// The text of the header figure `<b id="name">`.
    static func stat(_ name: String, in dom: String) -> String? {
        guard let start = dom.range(of: "<b id=\"\(name)\">") else { return nil }
        guard let end = dom.range(of: "</b>", range: start.upperBound..<dom.endIndex) else { return nil }
        return String(dom[start.upperBound..<end.lowerBound])
    }

    /// The `<tr>` of `service`.
    static func row(_ dom: String, service: String) -> String? {
        guard let start = dom.range(of: "<tr data-service=\"\(service)\">") else { return nil }
        guard let end = dom.range(of: "</tr>", range: start.upperBound..<dom.endIndex) else { return nil }
        return String(dom[start.lowerBound..<end.upperBound])
    }
}

enum Chromium {
    static var path: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
