import AsyncHTTPClient
import BrainApplication
import BrainDomain
import BrainInfrastructure
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

/// Tenants' integrations: `GET /api/brain/integrations[/{name}]`, `PUT|DELETE
/// /api/brain/integrations/{name}` (platform-admin or tenant-admin), and the outbound proxy
/// `ANY /api/brain/integrations/{name}/proxy/{path…}`. Credential values go in (PUT) and out (to
/// the provider) and nowhere else: answers show field names and a fingerprint.
struct IntegrationController<Context: CallerRequestContext>: Sendable {
    let connections: IntegrationConnections
    let proxy: IntegrationProxy
    let authentication: Authentication

    /// Roles that manage a tenant's integrations.
    static var administratorRoles: [String] { [Principal.platformAdminRole, "tenant-admin"] }
    /// Roles that may call through the proxy: administrators, and services/workflows acting
    /// for the tenant with the `integrations` role. End users' tokens cannot spend a tenant's
    /// third-party credentials.
    static var callerRoles: [String] { administratorRoles + ["integrations"] }
    /// Request bodies sent through the proxy are buffered (so a retry can resend them) up to this.
    static var maxProxyBodyBytes: Int { 8 << 20 }

    func addRoutes(to router: Router<Context>) {
        router.get("/api/brain/integrations") { request, _ in
            let tenant = try await tenant(request, roles: Self.administratorRoles)
            let listings = try await translate { () async throws(IntegrationConnections.Failure) in try await connections.list(tenant: tenant) }
            return JSONResponse.raw(JSONValue.object(["integrations": .array(listings.map(Self.view))]).json)
        }
        router.get("/api/brain/integrations/:name") { request, context in
            let tenant = try await tenant(request, roles: Self.administratorRoles)
            let name = context.parameters.get("name") ?? ""
            let entry = try translate { () throws(IntegrationConnections.Failure) in try connections.integration(named: name) }
            let connection = try await translate { () async throws(IntegrationConnections.Failure) in try await connections.connection(of: name, tenant: tenant) }
            var object = Self.viewObject(.init(integration: entry, tier: connections.tier(of: name), status: connection?.status.rawValue ?? "inactive"))
            if let connection {
                object["fingerprint"] = .string(Self.fingerprint(connection.credentials, tenant: tenant, integration: name))
                object["base_url"] = .string(connection.baseURL(of: entry))
            }
            return JSONResponse.raw(JSONValue.object(object).json)
        }
        router.put("/api/brain/integrations/:name") { request, context in
            let principal = try await ControlPlaneCaller.principal(request, authentication: authentication)
            let tenant = try Self.tenant(principal, request, roles: Self.administratorRoles)
            let name = context.parameters.get("name") ?? ""
            _ = try translate { () throws(IntegrationConnections.Failure) in try connections.integration(named: name) }
            let body = try await WorkflowRunsController<Context>.jsonBody(request, what: "the credentials").value
            guard case .object(let fields) = body else { throw AdminError.invalid("body", "must be a JSON object with 'credentials'") }
            for key in fields.keys where key != "credentials" && key != "base_url" {
                throw AdminError.invalid(key, "is not a field of an activation (credentials, base_url)")
            }
            guard case .object(let submitted) = body["credentials"] else { throw AdminError.invalid("credentials", "is required (an object of field: value)") }
            var values: [String: String] = [:]
            for (field, value) in submitted {
                guard case .string(let text) = value else { throw AdminError.invalid("credentials.\(field)", "must be a string") }
                values[field] = text
            }
            var baseURL: String?
            switch body["base_url"] {
            case .null: break
            case .string(let url):
                // Pointing a tenant's credentials at another host is the platform's decision.
                guard principal.isPlatformAdmin else { throw AdminError.forbidden("only platform-admin may set base_url") }
                baseURL = url
            default: throw AdminError.invalid("base_url", "must be a string")
            }
            let stored = try await translate { () async throws(IntegrationConnections.Failure) in
                try await connections.activate(name, values: values, baseURL: baseURL, tenant: tenant)
            }
            let set = JSONValue.object(Dictionary(uniqueKeysWithValues: stored.credentials.fields.map { ($0, JSONValue.string("set")) }))
            return JSONResponse.raw(JSONValue.object([
                "name": .string(name), "status": .string(stored.status.rawValue), "credentials": set,
                "fingerprint": .string(Self.fingerprint(stored.credentials, tenant: tenant, integration: name)),
            ]).json)
        }
        router.delete("/api/brain/integrations/:name") { request, context in
            let tenant = try await tenant(request, roles: Self.administratorRoles)
            let name = context.parameters.get("name") ?? ""
            try await translate { () async throws(IntegrationConnections.Failure) in try await connections.deactivate(name, tenant: tenant) }
            return Response(status: .noContent)
        }
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete, .head, .options] {
            router.on("/api/brain/integrations/:name/proxy", method: method) { request, context in
                try await proxied(request, name: context.parameters.get("name") ?? "")
            }
            router.on("/api/brain/integrations/:name/proxy/**", method: method) { request, context in
                try await proxied(request, name: context.parameters.get("name") ?? "")
            }
        }
    }

    private func tenant(_ request: Request, roles: [String]) async throws -> TenantID {
        let principal = try await ControlPlaneCaller.principal(request, authentication: authentication)
        return try Self.tenant(principal, request, roles: roles)
    }

    private static func tenant(_ principal: Principal, _ request: Request, roles: [String]) throws -> TenantID {
        guard principal.hasAny(of: roles) else {
            throw AdminError.forbidden("this needs one of the roles \(roles.joined(separator: ", "))")
        }
        return try WorkflowRunsController<Context>.tenant(of: principal, request)
    }

    private func proxied(_ request: Request, name: String) async throws -> Response {
        let tenant = try await tenant(request, roles: Self.callerRoles)
        // What follows `/proxy`, exactly as the client sent it (still percent-encoded).
        let target = request.uri.string
        let marker = "/proxy"
        guard let range = target.range(of: "/api/brain/integrations/\(name)\(marker)") else {
            throw AdminError(status: .badRequest, code: "bad_request", detail: "malformed proxy path")
        }
        var pathAndQuery = String(target[range.upperBound...])
        if pathAndQuery.hasPrefix("?") || pathAndQuery.isEmpty { pathAndQuery = "/" + pathAndQuery }
        var headers = HTTPHeaders()
        for field in request.headers { headers.add(name: field.name.rawName, value: field.value) }
        let body: ByteBuffer?
        do {
            let collected = try await request.body.collect(upTo: Self.maxProxyBodyBytes)
            body = collected.readableBytes > 0 || [.post, .put, .patch].contains(request.method) ? collected : nil
        } catch {
            throw AdminError(status: .contentTooLarge, code: "payload_too_large", detail: "a proxied request body may be at most \(Self.maxProxyBodyBytes) bytes")
        }
        let answer: IntegrationProxy.Answer
        do {
            answer = try await proxy.call(
                name, tenant: tenant, method: HTTPMethod(rawValue: request.method.rawValue), pathAndQuery: pathAndQuery, headers: headers, body: body)
        } catch {
            throw Self.adminError(error, name: name, limit: proxy.requestsPerWindow)
        }
        var fields = HTTPFields()
        for field in answer.response.headers where !IntegrationProxy.withheldResponseFields.contains(field.name.lowercased()) {
            if let fieldName = HTTPField.Name(field.name) { fields.append(HTTPField(name: fieldName, value: field.value)) }
        }
        Self.addRateLimit(answer.rateLimit, limit: proxy.requestsPerWindow, to: &fields)
        // The provider's length is kept when it sent one (no chunked framing for a sized body).
        let status = Int(answer.response.status.code)
        let hasBody = request.method != .head && status != 204 && status != 304 && !(100...199).contains(status)
        let length = hasBody ? answer.response.headers.first(name: "Content-Length").flatMap { Int($0) } : nil
        let providerBody = answer.response.body
        return Response(
            status: .init(code: status, reasonPhrase: answer.response.status.reasonPhrase), headers: fields,
            body: ResponseBody(contentLength: length) { writer in
                try await writer.write(providerBody)
                try await writer.finish(nil)
            })
    }

    private static func addRateLimit(_ decision: SlidingWindowRateLimit.Decision, limit: Int, to fields: inout HTTPFields) {
        if let name = HTTPField.Name("RateLimit-Limit") { fields[name] = String(limit) }
        if let name = HTTPField.Name("RateLimit-Remaining") { fields[name] = String(decision.remaining) }
        if let name = HTTPField.Name("RateLimit-Reset") { fields[name] = String(Int(decision.resetSeconds.rounded(.up))) }
    }

    private func translate<T>(_ body: () async throws(IntegrationConnections.Failure) -> T) async throws -> T {
        do { return try await body() } catch { throw Self.adminError(error) }
    }

    private func translate<T>(_ body: () throws(IntegrationConnections.Failure) -> T) throws -> T {
        do { return try body() } catch { throw Self.adminError(error) }
    }

    static func adminError(_ failure: IntegrationConnections.Failure) -> AdminError {
        switch failure {
        case .unknownIntegration(let name):
            AdminError(status: .notFound, code: "integration_not_found", detail: "no integration named '\(JSONText.truncate(Substring(name)))' in the catalogue")
        case .invalid(let field, let reason): AdminError.invalid(field, reason)
        case .invalidCredentials(let status):
            AdminError(
                status: .unprocessableContent, code: "invalid_credentials",
                detail: "the provider refused the credentials (\(status)); nothing was stored")
        case .providerUnreachable(let reason):
            AdminError(status: .badGateway, code: "bad_gateway", detail: "the credentials could not be verified: \(reason); nothing was stored")
        case .secretsUnavailable(let reason):
            AdminError(status: .serviceUnavailable, code: "secrets_unavailable", detail: reason)
        }
    }

    static func adminError(_ refusal: IntegrationProxyRefusal, name: String, limit: Int) -> AdminError {
        switch refusal {
        case .unknownIntegration:
            return adminError(.unknownIntegration(name))
        case .inactive:
            return AdminError(status: .conflict, code: "integration_inactive", detail: "the tenant has no credentials for '\(name)'; activate it first")
        case .needsReauth:
            return AdminError(
                status: .unauthorized, code: "integration_needs_reauth",
                detail: "the provider refused to refresh the token for '\(name)'; store new credentials")
        case .rateLimited(let decision):
            var error = AdminError(status: .tooManyRequests, code: "rate_limited", detail: "the limit for this tenant and integration is exhausted; retry later")
            error.headers[.retryAfter] = String(max(1, Int(decision.retryAfterSeconds.rounded(.up))))
            addRateLimit(decision, limit: limit, to: &error.headers)
            return error
        case .secretsUnavailable(let reason):
            return AdminError(status: .serviceUnavailable, code: "secrets_unavailable", detail: reason)
        case .providerUnavailable(let retryAfter):
            var error = AdminError(
                status: .serviceUnavailable, code: "service_unavailable", detail: "'\(name)' failed repeatedly; its circuit breaker is open")
            error.headers[.retryAfter] = String(max(1, Int(retryAfter.rounded(.up))))
            return error
        case .unreachable(let reason):
            return AdminError(status: .badGateway, code: "bad_gateway", detail: "'\(name)' could not be reached: \(reason)")
        case .timedOut:
            return AdminError(status: .gatewayTimeout, code: "gateway_timeout", detail: "'\(name)' did not answer in time")
        case .badRequest(let detail):
            return AdminError(status: .badRequest, code: "bad_request", detail: detail)
        }
    }

    static func view(_ listing: IntegrationConnections.Listing) -> JSONValue { .object(viewObject(listing)) }

    static func viewObject(_ listing: IntegrationConnections.Listing) -> [String: JSONValue] {
        [
            "name": .string(listing.integration.name.value), "category": .string(listing.integration.category),
            "tier": listing.tier.map(JSONValue.string) ?? .null,
            "credentials": .array(listing.integration.credentials.map(JSONValue.string)), "status": .string(listing.status),
        ]
    }

    /// Identifies a set of credentials without revealing them: SHA-256 over the tenant, the
    /// integration and the sorted fields, 16 hex digits (equal credentials, equal fingerprints).
    static func fingerprint(_ credentials: Credentials, tenant: TenantID, integration: String) -> String {
        var hasher = SHA256()
        hasher.update(data: Array("brain-gateway credentials\u{0}\(tenant.value)\u{0}\(integration)".utf8))
        for field in credentials.fields {
            hasher.update(data: Array("\u{0}\(field)=\(credentials[field] ?? "")".utf8))
        }
        return "sha256:" + hasher.finalize().prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
