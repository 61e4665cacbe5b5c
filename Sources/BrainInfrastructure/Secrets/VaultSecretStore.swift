import AsyncHTTPClient
import BrainApplication
import BrainDomain
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// The secret store in HashiCorp Vault (or OpenBao) KV v2: one secret per tenant and
/// integration at `{mount}/data/brain-gateway/{tenant}/{integration}`. As a service it keeps its
/// token alive with `renew-self` at half its TTL when the token is renewable.
///
/// The token travels only in `X-Vault-Token`; errors name what failed, never a value.
public final class VaultSecretStore: SecretStore, Service {
    private let settings: VaultSettings
    private let client: HTTPClient
    private let logger: Logger
    /// Why the last call to Vault failed; nil when it succeeded.
    private let lastFailure = Mutex<String?>(nil)
    private let renewals = Mutex(0)

    public init(settings: VaultSettings, client: HTTPClient, logger: Logger) {
        self.settings = settings
        self.client = client
        self.logger = logger
    }

    /// Nil when the last call to Vault worked; else what went wrong (`/health/ready` detail).
    public var problem: String? { lastFailure.withLock { $0 } }
    /// Successful `renew-self` calls (the tests watch a short-TTL token being kept alive).
    public var renewalCount: Int { renewals.withLock { $0 } }

    private func url(_ path: String) -> String { "\(settings.address)/v1/\(path)" }

    private func secretPath(_ kind: String, _ tenant: TenantID, _ integration: String) -> String {
        "\(settings.mount)/\(kind)/brain-gateway/\(tenant.value)/\(integration)"
    }

    public func read(tenant: TenantID, integration: String) async throws(SecretStoreError) -> Credentials? {
        let (status, body) = try await call(.GET, secretPath("data", tenant, integration))
        if status == 404 { return nil }
        guard status == 200 else { throw fail(status) }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
            let data = (object["data"] as? [String: Any])?["data"] as? [String: Any]
        else {
            throw .unreadable(reason: "Vault's answer has no data.data object")
        }
        var values: [String: String] = [:]
        for (field, value) in data {
            guard let text = value as? String else { throw .unreadable(reason: "field '\(field)' is not a string") }
            values[field] = text
        }
        return Credentials(values)
    }

    public func write(_ credentials: Credentials, tenant: TenantID, integration: String) async throws(SecretStoreError) {
        let body: Data
        do { body = try JSONSerialization.data(withJSONObject: ["data": credentials.values]) } catch {
            throw .unreadable(reason: "the credentials could not be encoded")
        }
        let (status, _) = try await call(.POST, secretPath("data", tenant, integration), body: body)
        guard (200...299).contains(status) else { throw fail(status) }
    }

    /// Deletes every version and the metadata: the secret is gone, not soft-deleted.
    public func erase(tenant: TenantID, integration: String) async throws(SecretStoreError) {
        let (status, _) = try await call(.DELETE, secretPath("metadata", tenant, integration))
        guard (200...299).contains(status) || status == 404 else { throw fail(status) }
    }

    private func fail(_ status: Int) -> SecretStoreError {
        let reason = switch status {
        case 503: "Vault is sealed or in standby (503)"
        case 403: "Vault refused the token (403)"
        default: "Vault answered \(status)"
        }
        lastFailure.withLock { $0 = reason }
        return .unavailable(reason: reason)
    }

    private func call(_ method: HTTPMethod, _ path: String, body: Data? = nil) async throws(SecretStoreError) -> (Int, [UInt8]) {
        var request = HTTPClientRequest(url: url(path))
        request.method = method
        request.headers.add(name: "X-Vault-Token", value: settings.token)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await client.execute(request, timeout: .seconds(5))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            let status = Int(response.status.code)
            if status < 500, status != 403 { lastFailure.withLock { $0 = nil } }
            return (status, Array(bytes.readableBytesView))
        } catch {
            let reason = "Vault is unreachable (\(UpstreamErrorText.describe(error)))"
            lastFailure.withLock { $0 = reason }
            throw .unavailable(reason: reason)
        }
    }

    /// The token's remaining TTL in seconds and whether it can be renewed.
    func lookupSelf() async throws(SecretStoreError) -> (ttl: Double, renewable: Bool) {
        let (status, body) = try await call(.GET, "auth/token/lookup-self")
        guard status == 200 else { throw fail(status) }
        let data = ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["data"] as? [String: Any]
        return ((data?["ttl"] as? NSNumber)?.doubleValue ?? 0, data?["renewable"] as? Bool ?? false)
    }

    /// Nil when Vault is up and unsealed; else what is wrong (`/health/ready` detail). Asks
    /// `sys/health`, which needs no token.
    public func check() async -> String? {
        var request = HTTPClientRequest(url: url("sys/health?standbyok=true"))
        request.method = .GET
        do {
            let response = try await client.execute(request, timeout: .seconds(2))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            switch response.status.code {
            case 200, 429, 472, 473: return problem
            case 503: return "Vault is sealed"
            case 501: return "Vault is not initialised"
            default: return "Vault answered \(response.status.code)"
            }
        } catch {
            return "Vault is unreachable"
        }
    }

    /// Renews the token; returns its new TTL.
    func renewSelf() async throws(SecretStoreError) -> Double {
        let (status, body) = try await call(.POST, "auth/token/renew-self", body: Data("{}".utf8))
        guard status == 200 else { throw fail(status) }
        renewals.withLock { $0 += 1 }
        let auth = ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["auth"] as? [String: Any]
        return (auth?["lease_duration"] as? NSNumber)?.doubleValue ?? 0
    }

    /// Keeps a renewable token alive: renews at half its TTL; after a failure, tries again
    /// within 10 seconds (or half the time left). A root or non-expiring token needs nothing,
    /// and the service then just waits for the shutdown (a service that ends stops the group).
    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.keepTokenAlive() }
        try? await gracefulShutdown()
    }

    private func keepTokenAlive() async {
        var ttl: Double
        // The token's state; Vault may still be starting, so ask until it answers.
        while true {
            do {
                let token = try await lookupSelf()
                guard token.renewable, token.ttl > 0 else { return }
                ttl = token.ttl
                break
            } catch {
                logger.warning("Vault token lookup failed; asking again in 10 s", metadata: ["reason": .string(error.description)])
                do { try await Task.sleep(for: .seconds(10)) } catch { return }
            }
        }
        while true {
            do { try await Task.sleep(for: .seconds(max(0.5, ttl / 2))) } catch { return }
            do {
                ttl = try await renewSelf()
                if ttl <= 0 { return }
            } catch {
                logger.warning("Vault token renewal failed; retrying", metadata: ["reason": .string(error.description)])
                ttl = min(ttl / 2, 10)
            }
        }
    }
}
