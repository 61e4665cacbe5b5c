import Foundation
import NIOSSL
import Testing

/// `https` instances: verified against the system trust store plus an optional private CA.
@Suite struct HTTPSUpstreamTests {
    /// A self-signed certificate for `localhost`, made with the openssl CLI.
    static func makeCertificate() async throws -> (cert: String, key: String) {
        let dir = NSTemporaryDirectory() + "brain-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let cert = dir + "/cert.pem", key = dir + "/key.pem"
        let openssl = ChildProcess()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                             "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
        openssl.standardError = FileHandle.nullDevice
        try await ProcessLaunch.run(openssl)
        while openssl.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        #expect(openssl.terminationStatus == 0)
        return (cert, key)
    }

    static func serverContext(_ files: (cert: String, key: String)) throws -> NIOSSLContext {
        let config = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(files.cert).map { .certificate($0) },
            privateKey: .file(files.key))
        return try NIOSSLContext(configuration: config)
    }

    @Test func httpsInstancesAreProxiedWhenTheCAIsTrusted() async throws {
        let files = try await Self.makeCertificate()
        let backend = try await TestBackend(tls: try Self.serverContext(files))
        let yaml = "services:\n  - {name: svc, url: \(backend.url), base_path: /base, health_path: /health}\n"
        let gateway = try await GatewayHarness.start(yaml: yaml, configure: { $0.upstreamCAFile = files.cert; $0.healthCheckIntervalSeconds = 1 })
        for _ in 0..<3 {
            let r = try await gateway.send("GET /svc/tls?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(r.status == 200)
            #expect(r.text == "{\"path\":\"/base/tls?x=1\"}")
        }
        // Keep-alive reuse works over TLS too: at most one connection per gateway event loop
        // (two) plus the health monitor's probe, which trusts the same CA.
        #expect(backend.connectionCount <= 3)
        try await Task.sleep(for: .milliseconds(1500))
        #expect(backend.healthProbes >= 1)
        #expect(gateway.gateway.health.snapshot(of: gateway.gateway.registry.directory.services).first?.health.status == .healthy)
        await gateway.stop()
        await backend.shutdown()
    }

    @Test func untrustedCertificatesAreRefusedWith502() async throws {
        let files = try await Self.makeCertificate()
        let backend = try await TestBackend(tls: try Self.serverContext(files))
        let gateway = try await GatewayHarness.start(yaml: oneService(backend))
        let r = try await gateway.send("GET /svc/tls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(r.status == 502)
        #expect(backend.requests.isEmpty)
        await gateway.stop()
        await backend.shutdown()
    }
}
