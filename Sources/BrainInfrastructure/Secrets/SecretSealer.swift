import BrainApplication
import BrainDomain
import Crypto
import Foundation

/// Seals a tenant's credentials for the embedded secret store with AES-256-GCM.
///
/// Every record gets a fresh random nonce, and the tenant and integration are bound in as
/// associated data: a row copied to another tenant or integration does not open, and neither
/// does one whose bytes were changed. The envelope names the key it was sealed under (a short
/// id derived from the key, not the key), so a record sealed under another key is reported as
/// such instead of as tampering: `v1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>`.
public struct SecretSealer: Sendable {
    private let key: SymmetricKey
    /// The first 8 bytes of SHA-256("brain-gateway secrets key id" ‖ key), hex.
    public let keyID: String

    public init(key: SymmetricKey) {
        self.key = key
        let digest = key.withUnsafeBytes { bytes in
            SHA256.hash(data: Array("brain-gateway secrets key id".utf8) + Array(bytes))
        }
        keyID = digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// `BRAIN_GATEWAY_SECRETS_KEY`: the base64 of exactly 32 bytes.
    public init(base64 text: String, field: String) throws(ConfigurationError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Data(base64Encoded: trimmed), bytes.count == 32 else {
            throw ConfigurationError(field: field, reason: "must be the base64 of 32 random bytes, e.g. `openssl rand -base64 32` (the value is not shown)")
        }
        self.init(key: SymmetricKey(data: bytes))
    }

    /// The key from `BRAIN_GATEWAY_SECRETS_KEY_FILE` (a file holding the base64) or
    /// `BRAIN_GATEWAY_SECRETS_KEY`; nil when neither is set (activations then answer 503
    /// `secrets_unavailable`). A bad one stops start-up naming its variable.
    public static func configured(_ environment: [String: String]) throws(ConfigurationError) -> SecretSealer? {
        if let file = environment["BRAIN_GATEWAY_SECRETS_KEY_FILE"], !file.isEmpty {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ConfigurationError(field: "BRAIN_GATEWAY_SECRETS_KEY_FILE", reason: "cannot read '\(file)'")
            }
            return try SecretSealer(base64: text, field: "BRAIN_GATEWAY_SECRETS_KEY_FILE")
        }
        if let text = environment["BRAIN_GATEWAY_SECRETS_KEY"], !text.isEmpty {
            return try SecretSealer(base64: text, field: "BRAIN_GATEWAY_SECRETS_KEY")
        }
        return nil
    }

    /// A new random key (`--dev`): credentials sealed under it do not outlive the process's
    /// database unless the key is kept.
    public static func generated() -> SecretSealer { SecretSealer(key: SymmetricKey(size: .bits256)) }

    public func seal(_ credentials: Credentials, tenant: TenantID, integration: String) throws(SecretStoreError) -> String {
        let plaintext = Array(JSONValue.object(credentials.values.mapValues { .string($0) }).json.utf8)
        do {
            let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(), authenticating: Self.context(tenant, integration))
            guard let combined = box.combined else { throw SecretStoreError.unavailable(reason: "sealing produced no envelope") }
            return "v1:\(keyID):" + combined.base64EncodedString()
        } catch let error as SecretStoreError {
            throw error
        } catch {
            throw .unavailable(reason: "the credentials could not be sealed")
        }
    }

    public func open(_ envelope: String, tenant: TenantID, integration: String) throws(SecretStoreError) -> Credentials {
        let parts = envelope.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", let combined = Data(base64Encoded: String(parts[2])) else {
            throw .unreadable(reason: "the stored record is not a sealed envelope")
        }
        guard parts[1] == keyID else {
            throw .unreadable(reason: "sealed under another key (key id \(parts[1]), this gateway's is \(keyID))")
        }
        let plaintext: Data
        do {
            plaintext = try AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: key, authenticating: Self.context(tenant, integration))
        } catch {
            throw .unreadable(reason: "the record does not authenticate for this tenant and integration (altered or moved)")
        }
        guard case .object(let members) = try? JSONParser.parse(Array(plaintext)) else {
            throw .unreadable(reason: "the opened record is not a credentials object")
        }
        var values: [String: String] = [:]
        for (field, value) in members {
            guard case .string(let text) = value else { throw .unreadable(reason: "the opened record has a non-text field") }
            values[field] = text
        }
        return Credentials(values)
    }

    /// The associated data: which tenant's which integration the record belongs to.
    private static func context(_ tenant: TenantID, _ integration: String) -> [UInt8] {
        Array("brain-gateway integration secret v1\n\(tenant.value)\n\(integration)".utf8)
    }
}
