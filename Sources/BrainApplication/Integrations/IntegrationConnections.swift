import BrainDomain

/// Calls an integration's `verify` request with credentials that are not stored yet.
public protocol IntegrationVerifier: Sendable {
    func verify(_ integration: Integration, _ connection: IntegrationConnection, tenant: TenantID) async -> VerificationOutcome
}

public enum VerificationOutcome: Sendable, Equatable {
    /// 2xx. `connection` is what to store: the submitted one, or with the OAuth tokens the
    /// verification obtained.
    case accepted(IntegrationConnection)
    /// The provider refused the credentials (401/403, or a refused OAuth refresh).
    case refused(status: Int)
    /// Another answer, or none: nothing is learned about the credentials.
    case unreachable(reason: String)
}

/// Tenants' connections to the catalogue's integrations: activation (fields checked, the
/// credentials verified live, then stored and announced), deactivation, status, and the stored
/// connection the outbound proxy applies. The HTTP layer only translates.
public final class IntegrationConnections: Sendable {
    public enum Failure: Error, Sendable, Equatable {
        case unknownIntegration(String)
        /// `field` is `credentials.<name>` or `base_url`.
        case invalid(field: String, reason: String)
        case invalidCredentials(status: Int)
        case providerUnreachable(reason: String)
        case secretsUnavailable(reason: String)
    }

    /// One catalogue entry as a tenant sees it.
    public struct Listing: Sendable, Equatable {
        public let integration: Integration
        public let tier: String?
        /// `inactive`, `active` or `needs_reauth`.
        public let status: String

        public init(integration: Integration, tier: String?, status: String) {
            self.integration = integration
            self.tier = tier
            self.status = status
        }
    }

    /// By name.
    public let catalogue: [String: Integration]
    private let tiers: [String: String]
    private let secrets: (any SecretStore)?
    /// Why there is no secret store (named in every 503).
    private let missingStore: String
    private let verifier: any IntegrationVerifier
    private let events: any DomainEventSink
    private let now: @Sendable () -> Double
    private let changed: @Sendable (TenantID, String) -> Void

    /// - Parameters:
    ///   - tiers: integration name → the agent crew tier it belongs to.
    ///   - changed: told when a tenant's credentials for an integration were replaced or erased
    ///     (the proxy forgets tokens it derived from the old ones).
    public init(
        catalogue: [Integration], tiers: [String: String], secrets: (any SecretStore)?, missingStore: String,
        verifier: any IntegrationVerifier, events: any DomainEventSink, now: @escaping @Sendable () -> Double,
        changed: @escaping @Sendable (TenantID, String) -> Void = { _, _ in }
    ) {
        var byName: [String: Integration] = [:]
        for entry in catalogue { byName[entry.name.value] = entry }
        self.catalogue = byName
        self.tiers = tiers
        self.secrets = secrets
        self.missingStore = missingStore
        self.verifier = verifier
        self.events = events
        self.now = now
        self.changed = changed
    }

    public func integration(named name: String) throws(Failure) -> Integration {
        guard let entry = catalogue[name] else { throw .unknownIntegration(name) }
        return entry
    }

    /// The agent crew tier the integration belongs to, if any.
    public func tier(of name: String) -> String? { tiers[name] }

    /// Every catalogue entry with `tenant`'s status, by name.
    public func list(tenant: TenantID) async throws(Failure) -> [Listing] {
        var out: [Listing] = []
        for entry in catalogue.values.sorted(by: { $0.name.value < $1.name.value }) {
            let status = try await connection(of: entry.name.value, tenant: tenant)?.status.rawValue ?? "inactive"
            out.append(Listing(integration: entry, tier: tiers[entry.name.value], status: status))
        }
        return out
    }

    /// The stored connection, or nil when the tenant has none.
    /// - Parameter fresh: read past the store's cache (another replica may have just refreshed a token).
    public func connection(of name: String, tenant: TenantID, fresh: Bool = false) async throws(Failure) -> IntegrationConnection? {
        // Without a store nothing can have been activated.
        guard let store = secrets else { return nil }
        do {
            let stored = fresh ? try await store.readFresh(tenant: tenant, integration: name) : try await store.read(tenant: tenant, integration: name)
            return stored.map(IntegrationConnection.init(stored:))
        } catch {
            throw .secretsUnavailable(reason: error.description)
        }
    }

    /// Checks, verifies and stores `values` as `tenant`'s credentials for `name`.
    /// Nothing is stored when any step fails.
    public func activate(
        _ name: String, values: [String: String], baseURL: String?, tenant: TenantID
    ) async throws(Failure) -> IntegrationConnection {
        let entry = try integration(named: name)
        try Self.check(values, for: entry)
        if let baseURL {
            do {
                _ = try Integration(name: entry.name, category: entry.category, auth: entry.auth, credentials: entry.credentials, baseURL: baseURL)
            } catch {
                throw .invalid(field: "base_url", reason: "must be an absolute http(s) URL without query or fragment")
            }
        }
        let store = try store()
        var connection = IntegrationConnection(
            credentials: Credentials(values), baseURL: baseURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 })
        if entry.verify != nil || Self.isOAuth(entry) {
            switch await verifier.verify(entry, connection, tenant: tenant) {
            case .accepted(let verified): connection = verified
            case .refused(let status): throw .invalidCredentials(status: status)
            case .unreachable(let reason): throw .providerUnreachable(reason: reason)
            }
        }
        do { try await store.write(connection.stored, tenant: tenant, integration: name) } catch {
            throw .secretsUnavailable(reason: error.description)
        }
        changed(tenant, name)
        events.publish([.integrationActivated(integration: entry.name, tenant: tenant)], at: now())
        return connection
    }

    /// Erases `tenant`'s credentials for `name` (none stored is not an error).
    public func deactivate(_ name: String, tenant: TenantID) async throws(Failure) {
        let entry = try integration(named: name)
        let store = try store()
        do { try await store.erase(tenant: tenant, integration: name) } catch {
            throw .secretsUnavailable(reason: error.description)
        }
        changed(tenant, name)
        events.publish([.integrationDeactivated(integration: entry.name, tenant: tenant)], at: now())
    }

    /// Keeps tokens the proxy obtained by an OAuth refresh (a rotated refresh token must not
    /// be lost, or the next refresh is refused).
    public func store(refreshed connection: IntegrationConnection, of name: String, tenant: TenantID) async throws(Failure) {
        let store = try store()
        do { try await store.write(connection.stored, tenant: tenant, integration: name) } catch {
            throw .secretsUnavailable(reason: error.description)
        }
    }

    /// The provider refused a refresh: the connection is marked until new credentials arrive.
    public func markNeedsReauth(_ name: String, tenant: TenantID) async {
        guard let entry = catalogue[name], let store = secrets,
            let stored = try? await store.read(tenant: tenant, integration: name)
        else { return }
        var connection = IntegrationConnection(stored: stored)
        guard connection.status != .needsReauth else { return }
        connection.status = .needsReauth
        try? await store.write(connection.stored, tenant: tenant, integration: name)
        events.publish([.integrationNeedsReauth(integration: entry.name, tenant: tenant)], at: now())
    }

    private func store() throws(Failure) -> any SecretStore {
        guard let secrets else { throw .secretsUnavailable(reason: missingStore) }
        return secrets
    }

    static func isOAuth(_ entry: Integration) -> Bool {
        if case .oauth2 = entry.auth { return true }
        return false
    }

    /// Largest credential value accepted (a JWT-sized token fits; a file does not).
    public static let maxValueBytes = 8192

    /// Every required field present and non-empty; no field the entry does not know (OAuth
    /// entries also take `access_token` and `expires_at`); values are one line of text.
    static func check(_ values: [String: String], for entry: Integration) throws(Failure) {
        for field in entry.credentials where (values[field] ?? "").isEmpty {
            throw .invalid(field: "credentials.\(field)", reason: "is required for \(entry.name.value)")
        }
        let optional: Set<String> = isOAuth(entry) ? ["access_token", "expires_at"] : []
        for (field, value) in values.sorted(by: { $0.key < $1.key }) {
            guard entry.credentials.contains(field) || optional.contains(field) else {
                throw .invalid(field: "credentials.\(field)", reason: "is not a credential of \(entry.name.value) (it takes \(entry.credentials.joined(separator: ", ")))")
            }
            guard value.utf8.count <= maxValueBytes else {
                throw .invalid(field: "credentials.\(field)", reason: "is longer than \(maxValueBytes) bytes")
            }
            guard value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
                throw .invalid(field: "credentials.\(field)", reason: "must not contain control characters")
            }
            if field == "expires_at", Double(value) == nil {
                throw .invalid(field: "credentials.expires_at", reason: "must be Unix seconds")
            }
        }
    }
}
