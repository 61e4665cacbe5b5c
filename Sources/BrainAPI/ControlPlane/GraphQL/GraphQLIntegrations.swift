import BrainApplication
import BrainDomain
import Foundation
import GraphQL
import Graphiti

/// Integrations in GraphQL: the query `integrations` (the caller's tenant, or the platform
/// admin's `X-Tenant-ID`) and the mutations `activateIntegration(name:, credentials:, base_url:)`
/// (credentials as JSON text, like a run's input) and `deactivateIntegration(name:)`. The same
/// roles and checks as the REST API; values are never returned.
struct GraphQLIntegrations: Sendable {
    let connections: IntegrationConnections

    struct ActivateArguments: Codable, Sendable {
        let name: String
        /// `{"field": "value", …}` as JSON text.
        let credentials: String
        let base_url: String?
    }

    struct NameArguments: Codable, Sendable {
        let name: String
    }

    private func tenant(_ context: GraphQLCaller) throws -> TenantID {
        guard context.principal.hasAny(of: IntegrationController<ControlPlaneContext>.administratorRoles) else {
            throw GraphQLResolver.forbidden("integrations need one of the roles platform-admin, tenant-admin")
        }
        return context.scope ?? context.principal.tenant
    }

    func integrations(context: GraphQLCaller) async throws -> [IntegrationView] {
        let tenant = try tenant(context)
        return try await translate { () async throws(IntegrationConnections.Failure) in try await connections.list(tenant: tenant) }.map(IntegrationView.init)
    }

    func activate(context: GraphQLCaller, arguments: ActivateArguments) async throws -> IntegrationActivationView {
        let tenant = try tenant(context)
        guard case .object(let object) = (try? JSONParser.parse(arguments.credentials)) ?? .null else {
            throw GraphQLResolver.invalid("credentials", "must be a JSON object of field: value")
        }
        var values: [String: String] = [:]
        for (field, value) in object {
            guard case .string(let text) = value else { throw GraphQLResolver.invalid("credentials.\(field)", "must be a string") }
            values[field] = text
        }
        if arguments.base_url != nil, !context.isAdmin { throw GraphQLResolver.forbidden("only platform-admin may set base_url") }
        let stored = try await translate { () async throws(IntegrationConnections.Failure) in
            try await connections.activate(arguments.name, values: values, baseURL: arguments.base_url, tenant: tenant)
        }
        return IntegrationActivationView(
            name: arguments.name, status: stored.status.rawValue, credentials: stored.credentials.fields,
            fingerprint: IntegrationController<ControlPlaneContext>.fingerprint(stored.credentials, tenant: tenant, integration: arguments.name))
    }

    func deactivate(context: GraphQLCaller, arguments: NameArguments) async throws -> Bool {
        let tenant = try tenant(context)
        try await translate { () async throws(IntegrationConnections.Failure) in try await connections.deactivate(arguments.name, tenant: tenant) }
        return true
    }

    private func translate<T>(_ body: () async throws(IntegrationConnections.Failure) -> T) async throws -> T {
        do { return try await body() } catch {
            let refusal = IntegrationController<ControlPlaneContext>.adminError(error)
            throw GraphQLResolver.error(refusal.detail, code: refusal.code, field: refusal.field)
        }
    }
}

struct IntegrationView: Codable, Sendable {
    let name: String
    let category: String
    let tier: String?
    let credentials: [String]
    let status: String

    init(_ listing: IntegrationConnections.Listing) {
        name = listing.integration.name.value
        category = listing.integration.category
        tier = listing.tier
        credentials = listing.integration.credentials
        status = listing.status
    }
}

struct IntegrationActivationView: Codable, Sendable {
    let name: String
    let status: String
    /// The fields stored (names only).
    let credentials: [String]
    let fingerprint: String
}
