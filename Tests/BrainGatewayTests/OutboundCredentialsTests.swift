import BrainDomain
import BrainInfrastructure
import Foundation
import Testing

/// Credentials on the wire, per auth scheme: exactly the header or query field the scheme says,
/// and nothing a value could smuggle.
@Suite struct OutboundCredentialsTests {
    static func integration(_ auth: Integration.Auth, _ fields: [String]) throws -> Integration {
        try Integration(name: ServiceName("acme"), category: "test", auth: auth, credentials: fields, baseURL: "https://api.acme.example")
    }

    @Test func eachSchemePutsTheCredentialWhereItSays() throws {
        typealias Field = OutboundCredentials.Field
        let bearer = try OutboundCredentials.applying(Credentials(["secret_key": "sk_1"]), for: Self.integration(.bearer, ["secret_key"]))
        #expect(bearer.headers == [Field(name: "Authorization", value: "Bearer sk_1")] && bearer.query.isEmpty)
        let basic = try OutboundCredentials.applying(
            Credentials(["username": "ada", "password": "p@ss:word"]), for: Self.integration(.basic, ["username", "password"]))
        #expect(basic.headers == [Field(name: "Authorization", value: "Basic " + Data("ada:p@ss:word".utf8).base64EncodedString())])
        let header = try OutboundCredentials.applying(Credentials(["api_key": "k1"]), for: Self.integration(.header("x-api-key"), ["api_key"]))
        #expect(header.headers == [Field(name: "x-api-key", value: "k1")])
        let query = try OutboundCredentials.applying(
            Credentials(["api_key": "k 1&x=2", "cx": "c"]), for: Self.integration(.query("key"), ["api_key", "cx"]))
        #expect(query.headers.isEmpty && query.query == [Field(name: "key", value: "k 1&x=2")])
        #expect(query.appendingQuery(to: "/v1/search?q=swift") == "/v1/search?q=swift&key=k%201%26x%3D2")
        #expect(query.appendingQuery(to: "/v1/search") == "/v1/search?key=k%201%26x%3D2")
        let oauth = try Self.integration(.oauth2(tokenURL: "https://auth.acme.example/token"), ["client_id", "client_secret", "refresh_token"])
        let stored = Credentials(["client_id": "c", "client_secret": "s", "refresh_token": "r", "access_token": "at-1"])
        #expect(try OutboundCredentials.applying(stored, for: oauth).headers == [Field(name: "Authorization", value: "Bearer at-1")])
        #expect(try OutboundCredentials.applying(stored, for: oauth, accessToken: "at-2").headers == [Field(name: "Authorization", value: "Bearer at-2")])
    }

    @Test func aMissingOrHostileValueIsRefusedNamingTheFieldOnly() throws {
        let cases: [(Integration, Credentials, String)] = [
            (try Self.integration(.bearer, ["secret_key"]), Credentials([:]), "credentials.secret_key"),
            (try Self.integration(.bearer, ["secret_key"]), Credentials(["secret_key": "sk\r\nX-Evil: 1"]), "credentials.secret_key"),
            (try Self.integration(.basic, ["username", "password"]), Credentials(["username": "a:b", "password": "p"]), "credentials.username"),
            (try Self.integration(.header("x-api-key"), ["api_key"]), Credentials(["api_key": "k\u{0}"]), "credentials.api_key"),
            (try Self.integration(.oauth2(tokenURL: "https://a.example/t"), ["client_id", "client_secret", "refresh_token"]),
             Credentials(["client_id": "c", "client_secret": "s", "refresh_token": "r"]), "credentials.access_token"),
        ]
        for (integration, credentials, field) in cases {
            do {
                _ = try OutboundCredentials.applying(credentials, for: integration)
                Issue.record("accepted \(credentials) for \(integration.auth)")
            } catch {
                #expect(error.field == field)
                #expect(!error.description.contains("X-Evil") && !error.description.contains("a:b"))
            }
        }
    }
}
