import AsyncHTTPClient
import BrainApplication
import BrainDomain
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The gateway's HTTP client for third-party providers: builds a request with a tenant's
/// credentials applied, sends one attempt, and performs OAuth refreshes (RFC 6749 §6).
/// Redirects are not followed (a redirect could carry credentials to another host).
public struct ProviderClient: Sendable {
    let client: HTTPClient
    /// Every exchange — head and body — must finish within this.
    public let timeout: TimeAmount

    public init(client: HTTPClient, timeout: TimeAmount = .seconds(30)) {
        self.client = client
        self.timeout = timeout
    }

    /// A client configured for providers: no redirects, and no connection retries of its own
    /// (the proxy's retry policy decides).
    public static func makeHTTPClient(group: any EventLoopGroup, extraTrustRootsFile: String?) -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5)))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.idleTimeout = .seconds(60)
        // AsyncHTTPClient's default is 8 connections per host: calls beyond it would queue.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        configuration.decompression = .disabled
        var tls = TLSConfiguration.makeClientConfiguration()
        if let extraTrustRootsFile { tls.additionalTrustRoots = [.file(extraTrustRootsFile)] }
        configuration.tlsConfiguration = tls
        return HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
    }

    /// `method {base}{pathAndQuery}` with the credentials added.
    func request(
        _ integration: Integration, _ connection: IntegrationConnection, accessToken: String?, method: HTTPMethod,
        pathAndQuery: String, headers: HTTPHeaders = [:], body: ByteBuffer? = nil
    ) throws(OutboundCredentials.Problem) -> HTTPClientRequest {
        let applied = try OutboundCredentials.applying(connection.credentials, for: integration, accessToken: accessToken)
        var request = HTTPClientRequest(url: connection.baseURL(of: integration) + applied.appendingQuery(to: pathAndQuery))
        request.method = method
        request.headers = headers
        for field in applied.headers { request.headers.replaceOrAdd(name: field.name, value: field.value) }
        if let body { request.body = .bytes(body) }
        return request
    }

    func send(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        try await client.execute(request, timeout: timeout)
    }

    /// Whether `error` means nothing reached the provider (no connection was made).
    static func isNotConnected(_ error: any Error) -> Bool {
        if error is NIOConnectionError { return true }
        if let error = error as? HTTPClientError, error == .connectTimeout { return true }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        if let error = error as? IOError { return [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH].contains(error.errnoCode) }
        return false
    }

    public enum RefreshOutcome: Sendable, Equatable {
        /// The new access token, when it expires (Unix seconds), and a rotated refresh token.
        case token(String, expiresAt: Double?, refreshToken: String?)
        /// 400/401: the provider will not refresh with these credentials.
        case refused(status: Int)
        case failed(reason: String)
    }

    /// `POST token_url` with `grant_type=refresh_token` and the client's credentials (form
    /// fields, RFC 6749 §2.3.1 allows either these or Basic; these work with more providers).
    func refresh(_ credentials: Credentials, tokenURL: String, now: Double) async -> RefreshOutcome {
        guard let clientID = credentials["client_id"], let secret = credentials["client_secret"], let refreshToken = credentials["refresh_token"] else {
            return .refused(status: 400)
        }
        var request = HTTPClientRequest(url: tokenURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let form = [("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", clientID), ("client_secret", secret)]
            .map { TokenIntrospector.formEncode($0.0) + "=" + TokenIntrospector.formEncode($0.1) }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: form))
        do {
            let response = try await send(request)
            let body = try await response.body.collect(upTo: 64 * 1024)
            let status = Int(response.status.code)
            if status == 400 || status == 401 { return .refused(status: status) }
            guard (200...299).contains(status) else { return .failed(reason: "the token endpoint answered \(status)") }
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
                let token = object["access_token"] as? String, !token.isEmpty
            else { return .failed(reason: "the token endpoint's answer has no access_token") }
            let expiresIn = (object["expires_in"] as? NSNumber)?.doubleValue
            return .token(token, expiresAt: expiresIn.map { now + $0 }, refreshToken: object["refresh_token"] as? String)
        } catch {
            return .failed(reason: "the token endpoint could not be reached")
        }
    }
}

extension IntegrationConnection {
    /// With the tokens of a successful refresh (a rotated refresh token replaces the old one).
    func refreshed(token: String, expiresAt: Double?, refreshToken: String?) -> IntegrationConnection {
        var values = credentials.values
        values["access_token"] = token
        if let expiresAt { values["expires_at"] = String(Int(expiresAt)) } else { values["expires_at"] = nil }
        if let refreshToken, !refreshToken.isEmpty { values["refresh_token"] = refreshToken }
        var copy = self
        copy.credentials = Credentials(values)
        copy.status = .active
        return copy
    }
}

/// Activation's live check: the entry's `verify` request with the submitted credentials; for
/// OAuth, a refresh first when no usable access token was submitted (which also checks the
/// client and refresh credentials).
public struct ProviderVerification: IntegrationVerifier {
    let provider: ProviderClient
    let now: @Sendable () -> Double

    public init(provider: ProviderClient, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.provider = provider
        self.now = now
    }

    public func verify(_ integration: Integration, _ connection: IntegrationConnection, tenant: TenantID) async -> VerificationOutcome {
        var connection = connection
        var accessToken: String?
        if case .oauth2(let tokenURL) = integration.auth {
            let expiresAt = connection.credentials["expires_at"].flatMap(Double.init)
            if let token = connection.credentials["access_token"], expiresAt.map({ now() < $0 - 30 }) ?? true {
                accessToken = token
            } else {
                switch await provider.refresh(connection.credentials, tokenURL: tokenURL, now: now()) {
                case .token(let token, let expiresAt, let refreshToken):
                    connection = connection.refreshed(token: token, expiresAt: expiresAt, refreshToken: refreshToken)
                    accessToken = token
                case .refused(let status): return .refused(status: status)
                case .failed(let reason): return .unreachable(reason: reason)
                }
            }
        }
        guard let verify = integration.verify else { return .accepted(connection) }
        do {
            let request = try provider.request(
                integration, connection, accessToken: accessToken, method: HTTPMethod(rawValue: verify.method.description), pathAndQuery: verify.path,
                headers: ["Accept": "application/json"])
            let response = try await provider.send(request)
            _ = try? await response.body.collect(upTo: 1 << 20)
            let status = Int(response.status.code)
            if (200...299).contains(status) { return .accepted(connection) }
            if status == 401 || status == 403 { return .refused(status: status) }
            return .unreachable(reason: "the provider answered \(status) to the verification request")
        } catch is OutboundCredentials.Problem {
            // Values the scheme cannot put on the wire (checked at activation already).
            return .refused(status: 422)
        } catch {
            return .unreachable(reason: "the provider could not be reached")
        }
    }
}
