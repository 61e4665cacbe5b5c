import BrainAPI
import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Runs a real `BrainGateway` in-process on an ephemeral port for one test.
final class GatewayHarness: Sendable {
    let gateway: BrainGateway
    let port: Int
    private let task: Task<Void, any Error>

    var base: String { "http://127.0.0.1:\(port)" }

    static func start(
        yaml: String, logger customLogger: Logger? = nil, signer: ProofOfOriginSigner = .generated(), useSecret: Bool = true,
        sealer: SecretSealer? = nil,
        configure: (inout GatewaySettings) -> Void = { _ in }
    ) async throws -> GatewayHarness {
        let file = try ServiceFileLoader().load(yaml: yaml)
        var settings = GatewaySettings()
        settings.host = "127.0.0.1"
        settings.port = 0
        settings.healthCheckIntervalSeconds = 3600
        // Each gateway its own store: tests run in parallel and declare services of one name.
        settings.storage = .sqlite(path: NSTemporaryDirectory() + "brain-gateway-test-\(UUID().uuidString).sqlite")
        configure(&settings)
        var logger = Logger(label: "test-gateway")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        let hs256Key = useSecret ? try await TokenVerifier.hs256Key(secret: TestTokens.secret) : nil
        let gateway = try BrainGateway(
            configuration: file.configuration(settings: settings),
            hs256Key: hs256Key, signer: signer, secretsSealer: sealer, logger: customLogger ?? logger, threads: 2)
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let task = Task {
            do {
                try await gateway.run { port in continuation.yield(port) }
            } catch {
                continuation.finish()
                throw error
            }
        }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else {
            _ = try await task.value
            throw HarnessError.didNotStart
        }
        return GatewayHarness(gateway: gateway, port: port, task: task)
    }

    private init(gateway: BrainGateway, port: Int, task: Task<Void, any Error>) {
        self.gateway = gateway
        self.port = port
        self.task = task
    }

    /// Sends `request` byte for byte, with the test user's token added unless it has one.
    func send(_ request: String, token: String = TestTokens.user, timeout: TimeAmount = .seconds(10)) async throws -> RawResponse {
        try await RawHTTP.send(port: port, TestTokens.authorize(request, token: token), timeout: timeout)
    }

    func exchange(_ request: String, token: String = TestTokens.user, timeout: TimeAmount = .seconds(10)) async throws -> [UInt8] {
        try await RawHTTP.exchange(port: port, TestTokens.authorize(request, token: token), timeout: timeout)
    }

    func stop() async {
        await gateway.shutdown()
        _ = try? await task.value
    }

    enum HarnessError: Error { case didNotStart }
}

/// Runs `body` with a backend and a gateway routing `name` to it, then tears both down.
func withGateway(
    services: (TestBackend) -> String,
    configure: (inout GatewaySettings) -> Void = { _ in },
    _ body: (GatewayHarness, TestBackend) async throws -> Void
) async throws {
    let backend = try await TestBackend()
    let gateway = try await GatewayHarness.start(yaml: services(backend), configure: configure)
    try await withTeardown {
        try await body(gateway, backend)
    } teardown: {
        await gateway.stop()
        await backend.shutdown()
    }
}

/// Runs `body`, then `teardown` — whether `body` returned or threw.
func withTeardown(_ body: () async throws -> Void, teardown: () async -> Void) async throws {
    do {
        try await body()
    } catch {
        await teardown()
        throw error
    }
    await teardown()
}

/// The usual one-service configuration: `/svc/...` → `{backend}/base/...`.
func oneService(_ backend: TestBackend, basePath: String = "/base", extra: String = "") -> String {
    """
    services:
      - name: svc
        url: \(backend.url)
        base_path: \(basePath)
    \(extra)
    """
}
