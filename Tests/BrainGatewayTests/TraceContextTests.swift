import BrainAPI
import BrainApplication
import Foundation
import Testing

/// W3C `traceparent`: continued when valid, started otherwise, always the gateway's own upstream.
@Suite struct TraceContextTests {
    static func upstreamTraceparent(_ gateway: GatewayHarness, sending header: String?) async throws -> String? {
        let extra = header.map { "traceparent: \($0)\r\n" } ?? ""
        let r = try await gateway.send("GET /svc/inspect HTTP/1.1\r\nHost: x\r\n\(extra)Connection: close\r\n\r\n")
        #expect(r.status == 200)
        let json = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]
        let headers = json?["headers"] as? [[String]] ?? []
        let values = headers.filter { $0.first?.lowercased() == "traceparent" }.map { $0[1] }
        #expect(values.count <= 1, "exactly one traceparent upstream: \(values)")
        return values.first
    }

    static func fields(_ header: String?) -> [String] { header.map { $0.split(separator: "-").map(String.init) } ?? [] }

    @Test func anIncomingTraceIsContinuedWithTheGatewaysOwnSpan() async throws {
        try await withGateway(services: { b in "services:\n  - {name: svc, url: \(b.url)}\n" }) { gateway, _ in
            let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            let sent = Self.fields(try await Self.upstreamTraceparent(gateway, sending: incoming))
            #expect(sent.count == 4)
            #expect(sent[0] == "00")
            #expect(sent[1] == "4bf92f3577b34da6a3ce929d0e0e4736")
            #expect(sent[2] != "00f067aa0ba902b7" && sent[2].count == 16)
            #expect(sent[3] == "01")
        }
    }

    @Test(arguments: [nil, "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"])
    func aMissingOrInvalidTraceparentStartsANewTrace(incoming: String?) async throws {
        try await withGateway(services: { b in "services:\n  - {name: svc, url: \(b.url)}\n" }) { gateway, _ in
            let sent = Self.fields(try await Self.upstreamTraceparent(gateway, sending: incoming))
            #expect(sent.count == 4)
            #expect(sent[1].count == 32 && sent[1] != String(repeating: "0", count: 32))
            #expect(sent[1] != "4bf92f3577b34da6a3ce929d0e0e4736")
            #expect(sent[2].count == 16)
            #expect(sent[1].allSatisfy { "0123456789abcdef".contains($0) })
        }
    }
}

/// OpenTelemetry export: spans per stage and for the upstream call, in the client's trace.
@Suite struct OTLPTracingTests {
    /// OTLP/JSON to the stand-in collector, exported every 100 ms.
    static func exporting(to collector: OTLPCollector) -> TracingSettings {
        var tracing = TracingSettings(endpoint: collector.url)
        tracing.format = .json
        tracing.exportDelayMilliseconds = 100
        return tracing
    }

    @Test func stagesAndTheUpstreamCallAreExportedInTheClientsTrace() async throws {
        let collector = try await OTLPCollector()
        defer { Task { await collector.shutdown() } }
        try await withGateway(
            services: { b in "services:\n  - {name: svc, url: \(b.url), rate_limit: {requests: 1000, window_seconds: 60}}\n" },
            configure: { $0.tracing = Self.exporting(to: collector) }
        ) { gateway, _ in
            let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            let upstream = try #require(try await TraceContextTests.upstreamTraceparent(gateway, sending: incoming))
            let fields = upstream.split(separator: "-").map(String.init)
            #expect(fields.count == 4 && fields[1] == "4bf92f3577b34da6a3ce929d0e0e4736" && fields[3] == "01")

            let expectedStages = ["authentication", "tenant", "route", "permission", "rate_limit", "instance_selection"]
            let spans = await collector.waitFor { spans in
                spans.contains { $0.kind == 2 } && expectedStages.allSatisfy { name in spans.contains { $0.name == name } }
            }
            let inTrace = spans.filter { $0.traceID == "4bf92f3577b34da6a3ce929d0e0e4736" }
            let server = try #require(inTrace.first { $0.kind == 2 }, "server span in \(spans.map(\.name))")
            #expect(server.parentSpanID == "00f067aa0ba902b7", "the client's span is the parent")
            #expect(server.name == "GET svc")
            #expect(server.attributes["http.response.status_code"] == "200")
            #expect(server.attributes["url.path"] == "/svc/inspect")
            for name in expectedStages {
                let stage = inTrace.first { $0.name == name }
                #expect(stage?.parentSpanID == server.spanID, "\(name) is a child of the request span")
            }
            // The upstream received the client span's id as its parent.
            let client = try #require(inTrace.first { $0.kind == 3 })
            #expect(client.name == "upstream" && client.parentSpanID == server.spanID)
            #expect(client.spanID == fields[2])
            #expect(collector.requestPaths.allSatisfy { $0 == "/v1/traces" })

            // Without a traceparent a new trace starts, and the upstream is part of it.
            let fresh = try #require(try await TraceContextTests.upstreamTraceparent(gateway, sending: nil))
            let freshTrace = String(fresh.split(separator: "-")[1])
            let more = await collector.waitFor { spans in spans.contains { $0.traceID == freshTrace && $0.kind == 2 } }
            #expect(more.contains { $0.traceID == freshTrace && $0.kind == 3 && $0.spanID == String(fresh.split(separator: "-")[2]) })
        }
    }

    @Test func aRefusedRequestEndsItsSpanWithTheStatus() async throws {
        let collector = try await OTLPCollector()
        defer { Task { await collector.shutdown() } }
        try await withGateway(
            services: { b in "services:\n  - {name: svc, url: \"http://127.0.0.1:1\"}\n" },
            configure: { $0.tracing = Self.exporting(to: collector) }
        ) { gateway, _ in
            let failed = try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(failed.status == 502)
            let refused = try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", token: "bad")
            #expect(refused.status == 401)
            let spans = await collector.waitFor { spans in spans.filter { $0.kind == 2 }.count >= 2 }
            let servers = spans.filter { $0.kind == 2 }
            #expect(servers.contains { $0.attributes["http.response.status_code"] == "502" && $0.errorStatus })
            #expect(servers.contains { $0.attributes["http.response.status_code"] == "401" })
            #expect(spans.contains { $0.kind == 3 && $0.errorStatus }, "the failed upstream attempt is an error span")
        }
    }
}
