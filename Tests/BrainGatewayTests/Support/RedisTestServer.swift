import BrainInfrastructure
import BrainRESP
import Foundation
import NIOPosix

/// A real `redis-server` (Debian's, installed by `scripts/test` and named in
/// `BRAIN_TEST_REDIS_SERVER`) on a free loopback port, without persistence. It can be stopped
/// and started again on the same port, or frozen (SIGSTOP: its socket stays open and nothing
/// answers — the hung server) and thawed.
final class RedisTestServer: @unchecked Sendable {
    static var binary: String? {
        ProcessInfo.processInfo.environment["BRAIN_TEST_REDIS_SERVER"]
            ?? (FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server") ? "/usr/bin/redis-server" : nil)
    }
    static var available: Bool { binary != nil }

    let port: Int
    let password: String?
    /// Certificate and key when the server speaks TLS only (`rediss://localhost:port`).
    let tls: (cert: String, key: String)?
    private var process: ChildProcess?

    var url: String {
        if tls != nil { return "rediss://localhost:\(port)" }
        return password.map { "redis://:\($0)@127.0.0.1:\(port)" } ?? "redis://127.0.0.1:\(port)"
    }

    init(password: String? = nil, tls: (cert: String, key: String)? = nil) async throws {
        port = GatewayProcess.freePort()
        self.password = password
        self.tls = tls
        try await start()
    }

    func start() async throws {
        guard let binary = Self.binary else { throw RedisTestError.unavailable }
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: binary)
        var arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"]
        if let password { arguments += ["--requirepass", password] }
        if let tls {
            arguments[1] = "0"
            arguments += ["--tls-port", String(port), "--tls-cert-file", tls.cert, "--tls-key-file", tls.key, "--tls-auth-clients", "no"]
        }
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try await ProcessLaunch.run(process)
        self.process = process
        if tls != nil {
            // No plain port to PING: wait until the TLS port accepts connections.
            for _ in 0..<200 {
                if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get() {
                    try? await channel.close()
                    return
                }
                try await Task.sleep(for: .milliseconds(25))
            }
            throw RedisTestError.didNotStart
        }
        for _ in 0..<200 {
            if let reply = try? await RawHTTP.exchange(port: port, "PING\r\nQUIT\r\n", timeout: .milliseconds(500)),
                String(decoding: reply, as: UTF8.self).hasPrefix(password == nil ? "+PONG" : "-NOAUTH")
            {
                return
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw RedisTestError.didNotStart
    }

    func stop() async {
        guard let process else { return }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            for _ in 0..<200 where process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        }
        self.process = nil
    }

    func freeze() { process.map { _ = kill($0.processIdentifier, SIGSTOP) } }
    func thaw() { process.map { _ = kill($0.processIdentifier, SIGCONT) } }

    enum RedisTestError: Error { case unavailable, didNotStart }
}
