import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Keeps the `KeyRing` in step with the identity provider's JWKS (`JWT_JWKS_URL`).
///
/// Fetches at start, then every `refreshSeconds`, and early when a token names a `kid` the ring
/// does not know (key rotation) — at most once per `minimumGapSeconds`, so a flood of tokens
/// with made-up `kid`s cannot turn into a flood of fetches. A failed fetch keeps the last good
/// key set (the failure mode of Envoy #14557 / istio #10547 is dropping to no keys), and a
/// fetched set with no usable key is treated as a failure too.
public final class JWKSRefresher: Service, Sendable {
    private let url: String
    private let client: HTTPClient
    private let ring: KeyRing
    private let refreshSeconds: Int
    private let minimumGapSeconds: Double
    private let logger: Logger
    private let state = Mutex(State())
    private let wakeUps: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    private struct State {
        var lastAttempt: Double = 0
        var fetches = 0
    }

    public init(url: String, client: HTTPClient, ring: KeyRing, refreshSeconds: Int = 300, minimumGapSeconds: Double = 5, logger: Logger) {
        self.url = url
        self.client = client
        self.ring = ring
        self.refreshSeconds = refreshSeconds
        self.minimumGapSeconds = minimumGapSeconds
        self.logger = logger
        (self.wakeUps, self.wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// How many fetches were attempted (for tests and metrics).
    public var fetchCount: Int { state.withLock { $0.fetches } }

    /// Called from the data plane (any thread, never blocking) when a token's `kid` is unknown.
    public func unknownKeySeen() {
        let now = Date().timeIntervalSince1970
        let due = state.withLock { now - $0.lastAttempt >= minimumGapSeconds }
        if due { wake.yield() }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Scheduled refreshes.
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(self.refreshSeconds))
                        if Task.isCancelled { return }
                        await self.refresh()
                    }
                }
                group.addTask {
                    // Early refreshes for unknown `kid`s.
                    for await _ in self.wakeUps {
                        let now = Date().timeIntervalSince1970
                        let due = self.state.withLock { now - $0.lastAttempt >= self.minimumGapSeconds }
                        if due { await self.refresh() }
                    }
                }
                await group.next()
                group.cancelAll()
                self.wake.finish()
            }
        }
    }

    /// One fetch; returns whether a new key set was published.
    @discardableResult
    public func refresh() async -> Bool {
        state.withLock {
            $0.lastAttempt = Date().timeIntervalSince1970
            $0.fetches += 1
        }
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/json")
            let response = try await client.execute(request, timeout: .seconds(5))
            guard response.status == .ok else { throw FetchError.status(response.status.code) }
            let body = try await response.body.collect(upTo: 1 << 20)
            let keys = try await Self.keys(fromJWKS: Data(body.readableBytesView))
            guard !keys.isEmpty else { throw FetchError.noUsableKey }
            ring.replaceFetched(with: keys)
            logger.info("JWKS refreshed", metadata: ["keys": .stringConvertible(keys.count)])
            return true
        } catch {
            logger.warning("JWKS fetch failed; keeping the last good key set", metadata: ["error": .string(UpstreamErrorText.describe(error))])
            return false
        }
    }

    enum FetchError: Error { case status(UInt), noUsableKey, notJWKS }

    /// Turns a JWKS document into verification keys. Keys jwt-kit cannot use (unknown type,
    /// missing `kid`, symmetric `oct` keys, which have no place in a public key set) are skipped
    /// one by one rather than failing the whole set.
    static func keys(fromJWKS data: Data) async throws -> [TokenVerifier.Key] {
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let list = object["keys"] as? [[String: Any]]
        else { throw FetchError.notJWKS }
        var keys: [TokenVerifier.Key] = []
        for entry in list {
            guard let kid = entry["kid"] as? String, entry["d"] == nil,
                  let json = try? JSONSerialization.data(withJSONObject: entry),
                  var jwk = try? JSONDecoder().decode(JWK.self, from: json)
            else { continue }
            if jwk.algorithm == nil { jwk.algorithm = defaultAlgorithm(for: entry) }
            guard let alg = jwk.algorithm else { continue }
            let collection = JWTKeyCollection()
            guard (try? await collection.add(jwk: jwk)) != nil,
                  let algorithm = try? await collection.getKey(for: JWKIdentifier(string: kid), alg: alg.rawValue)
            else { continue }
            keys.append(TokenVerifier.Key(kid: kid, algorithm: algorithm))
        }
        return keys
    }

    private static func defaultAlgorithm(for entry: [String: Any]) -> JWK.Algorithm? {
        switch (entry["kty"] as? String, entry["crv"] as? String) {
        case ("RSA", _): .rs256
        case ("EC", "P-256"): .es256
        case ("EC", "P-384"): .es384
        case ("EC", "P-521"): .es512
        case ("OKP", "Ed25519"): .eddsa
        default: nil
        }
    }
}
