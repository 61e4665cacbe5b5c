import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// The real `brain-gateway` executable run as a child process, for what only a process can
/// show: exit codes, signals, and its own memory use.
final class GatewayProcess: @unchecked Sendable {
    let process = ChildProcess()
    let port: Int
    /// Output goes to files, not pipes: reading a pipe that is empty blocks, and a blocked
    /// cooperative thread starves every other test's async I/O.
    private let outputBase = NSTemporaryDirectory() + "brain-gateway-out-\(UUID().uuidString)"
    private let readOffsets = NIOLockedValueBox([String: UInt64]())

    static var executable: URL {
        // Tests/BrainGatewayTests/Support/GatewayProcess.swift → package root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        if let override = ProcessInfo.processInfo.environment["BRAIN_GATEWAY_BINARY"] { return URL(fileURLWithPath: override) }
        return root.appendingPathComponent(".build/debug/brain-gateway")
    }

    static func freePort() -> Int {
        // Let the kernel choose (bind port 0), read it back, release it.
        RefusingPort().port
    }

    /// Starts the gateway with `environment` (plus a free port) and waits until it is ready.
    /// - Parameter executable: what to run instead of the gateway binary (a script that starts it).
    init(
        yaml: String?, environment: [String: String] = [:], arguments: [String] = [], executable: URL? = nil, waitUntilReady: Bool = true
    ) async throws {
        port = Self.freePort()
        var env = ProcessInfo.processInfo.environment
        env["BRAIN_GATEWAY_HOST"] = "127.0.0.1"
        env["BRAIN_GATEWAY_PORT"] = String(port)
        env["LOG_LEVEL"] = env["TEST_LOG_LEVEL"] ?? "warning"
        env["DATABASE_URL"] = "sqlite:\(NSTemporaryDirectory())brain-gateway-proc-\(UUID().uuidString).sqlite"
        env["JWT_SECRET"] = TestTokens.secret
        if let yaml {
            let file = NSTemporaryDirectory() + "brain-gateway-\(UUID().uuidString).yaml"
            try yaml.write(toFile: file, atomically: true, encoding: .utf8)
            env["BRAIN_GATEWAY_CONFIG"] = file
        }
        for (k, v) in environment { env[k] = v }
        process.executableURL = executable ?? Self.executable
        process.arguments = arguments
        process.environment = env
        FileManager.default.createFile(atPath: outputBase + ".out", contents: nil)
        FileManager.default.createFile(atPath: outputBase + ".err", contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputBase + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: outputBase + ".err"))
        try await ProcessLaunch.run(process)
        if waitUntilReady { try await self.waitUntilReady() }
    }

    func waitUntilReady() async throws {
        for _ in 0..<300 {
            if !process.isRunning { throw ProcessError.exited(process.terminationStatus, errorOutput()) }
            if let r = try? await RawHTTP.send(port: port, "GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout: .seconds(1)), r.status == 200 {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ProcessError.notReady
    }

    /// Sends `request` byte for byte, with the test user's token added unless it has one.
    func send(_ request: String, token: String = TestTokens.user, timeout: TimeAmount = .seconds(10)) async throws -> RawResponse {
        try await RawHTTP.send(port: port, TestTokens.authorize(request, token: token), timeout: timeout)
    }

    func exchange(_ request: String, token: String = TestTokens.user, timeout: TimeAmount = .seconds(10)) async throws -> [UInt8] {
        try await RawHTTP.exchange(port: port, TestTokens.authorize(request, token: token), timeout: timeout)
    }

    /// Resident set size and its peak, from /proc.
    func memory() -> (rss: Int, peak: Int) {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        func kb(_ key: String) -> Int {
            for line in status.split(separator: "\n") where line.hasPrefix(key) {
                return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0").map { $0 * 1024 } ?? 0
            }
            return 0
        }
        return (kb("VmRSS:"), kb("VmHWM:"))
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    func waitForExit(timeout: Duration = .seconds(30)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// What the process printed since the last call (never waits).
    func standardOutput() -> String { unread(".out") }

    func errorOutput() -> String { unread(".err") }

    /// Everything the process wrote to stderr.
    func allErrorOutput() -> String {
        String(decoding: FileManager.default.contents(atPath: outputBase + ".err") ?? Data(), as: UTF8.self)
    }

    private func unread(_ suffix: String) -> String {
        let data = FileManager.default.contents(atPath: outputBase + suffix) ?? Data()
        let start = readOffsets.withLockedValue { offsets -> Int in
            let start = Int(offsets[suffix] ?? 0)
            offsets[suffix] = UInt64(data.count)
            return min(start, data.count)
        }
        return String(decoding: data[start...], as: UTF8.self)
    }

    func stop() async {
        if process.isRunning {
            signal(SIGKILL)
            _ = await waitForExit(timeout: .seconds(5))
        }
    }

    enum ProcessError: Error { case exited(Int32, String), notReady }
}
