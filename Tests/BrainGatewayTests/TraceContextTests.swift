import BrainAPI
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
