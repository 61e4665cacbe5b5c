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

            let dom = try await Self.render("\(gateway.base)/dashboard#token=\(TestTokens.admin)")
            // The board, not the login form.
            #expect(dom.contains("<main id=\"board\">"), "\(dom.prefix(400))")
            // Both services, with the failing one's breaker open and the healthy one's closed.
            let orders = try #require(Self.row(dom, service: "orders"))
            #expect(orders.contains(">healthy<") && orders.contains(">closed<") && orders.contains(">3<"))
            let billing = try #require(Self.row(dom, service: "billing"))
            #expect(billing.contains(">open<") && billing.contains(">down<"))
            // Totals and the event feed.
            #expect(dom.contains("<b id=\"total\">5</b>"))
            #expect(dom.contains("<b id=\"activations\">1</b>"))
            #expect(dom.contains("data-type=\"CircuitOpened\""))
            #expect(dom.contains("data-type=\"ServiceRegistered\""))
        }
        withExtendedLifetime(dead) {}
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
