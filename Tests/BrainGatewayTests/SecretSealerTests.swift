import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import Testing

/// The embedded secret store's encryption: AES-256-GCM records that open only for their own
/// tenant and integration, under their own key, unaltered — and never show a value.
@Suite struct SecretSealerTests {
    static let credentials = Credentials(["api_key": "sk_live_Secret123", "account": "acct_9"])
    static let tenant = RepositoryTests.tenantA
    static let other = RepositoryTests.tenantB

    @Test func aSealedRecordOpensForItsTenantAndIntegrationOnly() throws {
        let sealer = SecretSealer.generated()
        let envelope = try sealer.seal(Self.credentials, tenant: Self.tenant, integration: "stripe")
        #expect(!envelope.contains("sk_live_Secret123") && envelope.hasPrefix("v1:\(sealer.keyID):"))
        #expect(try sealer.open(envelope, tenant: Self.tenant, integration: "stripe") == Self.credentials)
        // The same credentials sealed again: another nonce, another envelope.
        #expect(try sealer.seal(Self.credentials, tenant: Self.tenant, integration: "stripe") != envelope)
        // Copied to another tenant's row, or to another integration's: refused.
        for (tenant, integration) in [(Self.other, "stripe"), (Self.tenant, "paypal")] {
            #expect(throws: SecretStoreError.self) { try sealer.open(envelope, tenant: tenant, integration: integration) }
        }
    }

    @Test func anAlteredOrForeignRecordIsRefusedSayingWhy() throws {
        let sealer = SecretSealer.generated()
        let envelope = try sealer.seal(Self.credentials, tenant: Self.tenant, integration: "stripe")
        // One bit of the ciphertext flipped.
        let prefix = "v1:\(sealer.keyID):"
        var bytes = try #require(Data(base64Encoded: String(envelope.dropFirst(prefix.count))))
        bytes[bytes.count / 2] ^= 0x01
        do {
            _ = try sealer.open(prefix + bytes.base64EncodedString(), tenant: Self.tenant, integration: "stripe")
            Issue.record("an altered record opened")
        } catch {
            #expect(error.description.contains("altered or moved"))
        }
        // Sealed under another key: said so, with both key ids (never the keys).
        do {
            _ = try SecretSealer.generated().open(envelope, tenant: Self.tenant, integration: "stripe")
            Issue.record("a record opened under another key")
        } catch {
            #expect(error.description.contains("another key") && error.description.contains(sealer.keyID))
        }
        #expect(throws: SecretStoreError.self) { try sealer.open("not an envelope", tenant: Self.tenant, integration: "stripe") }
    }

    @Test func theKeyIsTheBase64OfThirtyTwoBytesAndIsNeverShown() throws {
        let key = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let a = try SecretSealer(base64: key, field: "BRAIN_GATEWAY_SECRETS_KEY")
        let b = try SecretSealer(base64: key + "\n", field: "BRAIN_GATEWAY_SECRETS_KEY_FILE")
        #expect(a.keyID == b.keyID && a.keyID.count == 16)
        let sealed = try a.seal(Self.credentials, tenant: Self.tenant, integration: "x")
        #expect(try b.open(sealed, tenant: Self.tenant, integration: "x") == Self.credentials)
        let short = Data(repeating: 7, count: 16).base64EncodedString()
        for bad in [short, "not base64!", ""] {
            do {
                _ = try SecretSealer(base64: bad, field: "BRAIN_GATEWAY_SECRETS_KEY")
                Issue.record("accepted a bad key")
            } catch {
                #expect(error.field == "BRAIN_GATEWAY_SECRETS_KEY")
                #expect(bad.isEmpty || !error.description.contains(bad))
            }
        }
    }

    @Test func theKeyComesFromItsFileOrItsVariable() throws {
        let key = Data(repeating: 42, count: 32).base64EncodedString()
        let file = NSTemporaryDirectory() + "secrets-key-\(UUID().uuidString)"
        try (key + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let fromFile = try #require(try SecretSealer.configured(["BRAIN_GATEWAY_SECRETS_KEY_FILE": file]))
        let fromVariable = try #require(try SecretSealer.configured(["BRAIN_GATEWAY_SECRETS_KEY": key]))
        #expect(fromFile.keyID == fromVariable.keyID)
        #expect(try SecretSealer.configured([:]) == nil)
        #expect(throws: ConfigurationError.self) { try SecretSealer.configured(["BRAIN_GATEWAY_SECRETS_KEY_FILE": file + "-missing"]) }
        do {
            _ = try SecretSealer.configured(["BRAIN_GATEWAY_SECRETS_KEY": "c2hvcnQ="])
            Issue.record("accepted a short key")
        } catch {
            #expect(error.field == "BRAIN_GATEWAY_SECRETS_KEY" && !error.description.contains("c2hvcnQ="))
        }
    }

    @Test func credentialsDescribeTheirFieldsNotTheirValues() {
        let text = "\(Self.credentials) \(String(reflecting: Self.credentials)) \(SecretStoreError.unreadable(reason: "x"))"
        #expect(text.contains("account, api_key"))
        #expect(!text.contains("sk_live_Secret123") && !text.contains("acct_9"))
    }
}

/// The embedded secret store on both databases: what is stored is ciphertext, a restart with the
/// same key reads it back, and an altered or moved record is refused.
@Suite struct EncryptedSecretStoreTests {
    static func withRecords(_ kind: RepositoryTests.Store, _ body: @Sendable (any SealedRecordStore) async throws -> Void) async throws {
        let logger = RepositoryTests.quiet
        switch kind {
        case .sqlite:
            let store = try await SQLiteRegistryStore.open(
                path: NSTemporaryDirectory() + "secrets-\(UUID().uuidString).sqlite", reader: RepositoryTests.reader, logger: logger)
            do { try await body(SQLiteSealedRecords(store)) } catch { await store.close(); throw error }
            await store.close()
        case .postgres:
            guard PostgresTestDatabase.available else { return }
            try await RepositoryTests.withPostgres { store in try await body(PostgresSealedRecords(store, logger: logger)) }
        }
    }

    @Test(arguments: RepositoryTests.Store.allCases)
    func credentialsAreSealedAtRestAndOpenOnlyWhereTheyBelong(store kind: RepositoryTests.Store) async throws {
        try await Self.withRecords(kind) { records in
            let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            let secrets = EncryptedSecretStore(sealer: try SecretSealer(base64: key, field: "k"), records: records)
            let a = SecretSealerTests.tenant, b = SecretSealerTests.other
            try await secrets.write(SecretSealerTests.credentials, tenant: a, integration: "stripe")
            #expect(try await secrets.read(tenant: a, integration: "stripe") == SecretSealerTests.credentials)
            #expect(try await secrets.read(tenant: b, integration: "stripe") == nil)
            let stored = try #require(try await records.envelope(tenant: a, integration: "stripe"))
            #expect(!stored.contains("sk_live_Secret123") && !stored.contains("acct_9"))
            // A restart: a new store with the same key reads it back.
            let restarted = EncryptedSecretStore(sealer: try SecretSealer(base64: key, field: "k"), records: records)
            #expect(try await restarted.read(tenant: a, integration: "stripe") == SecretSealerTests.credentials)
            // The row copied into tenant B's place, and a row altered by one character: refused.
            try await records.store(stored, tenant: b, integration: "stripe")
            await #expect(throws: SecretStoreError.self) { _ = try await secrets.read(tenant: b, integration: "stripe") }
            var altered = Array(stored)
            let i = altered.count - 10
            altered[i] = altered[i] == "A" ? "B" : "A"
            try await records.store(String(altered), tenant: a, integration: "stripe")
            await #expect(throws: SecretStoreError.self) { _ = try await secrets.read(tenant: a, integration: "stripe") }
            // Replaced, then erased.
            let rotated = Credentials(["api_key": "sk_live_Rotated"])
            try await secrets.write(rotated, tenant: a, integration: "stripe")
            #expect(try await secrets.read(tenant: a, integration: "stripe") == rotated)
            try await secrets.erase(tenant: a, integration: "stripe")
            #expect(try await secrets.read(tenant: a, integration: "stripe") == nil)
            try await secrets.erase(tenant: a, integration: "stripe")  // nothing stored: fine
        }
    }
}
