import BrainApplication
import BrainDomain
import Testing

@testable import BrainInfrastructure

/// The shipped integration catalogue and YAML `integrations:` entries, read by one reader.
@Suite struct IntegrationCatalogueTests {
    let reader = IntegrationCatalogueReader()

    @Test func theShippedCatalogueReadsWholeAndHoldsEveryTierName() throws {
        let shipped = try reader.entries(yaml: IntegrationCatalogueReader.shipped, at: "catalogue")
        #expect(shipped.count >= 40)
        #expect(reader.catalogue().count == shipped.count)
        let names = Set(shipped.map(\.name.value))
        for name in AgentSettings.seedTiers.values.flatMap({ $0 }) { #expect(names.contains(name), "\(name)") }
        let stripe = try #require(shipped.first { $0.name.value == "stripe" })
        #expect(stripe.auth == .bearer && stripe.credentials == ["secret_key"] && stripe.baseURL == "https://api.stripe.com")
        #expect(stripe.verify == Integration.Verify(method: .get, path: "/v1/balance"))
        #expect(shipped.allSatisfy { $0.baseURL.hasPrefix("https://") })
    }

    @Test func yamlEntriesAddToTheCatalogueOrReplaceOneOfTheSameName() throws {
        let overrides = try reader.entries(
            yaml: """
                - {name: stripe, category: payments, auth: bearer, credentials: [secret_key], base_url: "http://127.0.0.1:9/stripe/", verify: {method: GET, path: /v1/balance}}
                - {name: acme-erp, category: erp, auth: {type: oauth2, token_url: "https://erp.example/token"}, credentials: [client_id, client_secret, refresh_token, tenant_code], base_url: "https://erp.example/api"}
                """, at: "integrations")
        let catalogue = reader.catalogue(overrides: overrides)
        #expect(catalogue.first { $0.name.value == "stripe" }?.baseURL == "http://127.0.0.1:9/stripe")
        #expect(catalogue.first { $0.name.value == "acme-erp" }?.auth == .oauth2(tokenURL: "https://erp.example/token"))
        #expect(catalogue.map(\.name.value) == catalogue.map(\.name.value).sorted())
    }

    @Test func aBadEntryNamesItsField() {
        let cases: [(String, String)] = [
            ("- {name: x, category: c, auth: basic, credentials: [username], base_url: 'https://x.example'}", "integrations[0].credentials"),
            ("- {name: x, category: c, auth: digest, credentials: [k], base_url: 'https://x.example'}", "integrations[0].auth"),
            ("- {name: x, category: c, auth: bearer, credentials: [k], base_url: 'ftp://x.example'}", "integrations[0].base_url"),
            ("- {name: x, category: c, auth: bearer, credentials: [], base_url: 'https://x.example'}", "integrations[0].credentials"),
            ("- {name: X Y, category: c, auth: bearer, credentials: [k], base_url: 'https://x.example'}", "integrations[0].name"),
            ("- {name: x, category: c, auth: 'header:bad header', credentials: [k], base_url: 'https://x.example'}", "integrations[0].auth"),
            ("- {name: x, category: c, auth: {type: oauth2}, credentials: [client_id, client_secret, refresh_token], base_url: 'https://x.example'}", "integrations[0].auth.token_url"),
            ("- {name: x, category: c, auth: bearer, credentials: [k], base_url: 'https://x.example', verify: {path: v1}}", "integrations[0].verify.path"),
            ("- {name: x, category: c, auth: bearer, credentials: [k], base_url: 'https://x.example', secret: 1}", "integrations[0].secret"),
            ("- {name: x, category: c, auth: bearer, credentials: [k], base_url: 'https://x.example'}\n- {name: x, category: c, auth: bearer, credentials: [k], base_url: 'https://x.example'}", "integrations[1].name"),
        ]
        for (yaml, field) in cases {
            do {
                _ = try reader.entries(yaml: yaml, at: "integrations")
                Issue.record("accepted: \(yaml)")
            } catch {
                #expect(error.field == field, "\(yaml): \(error)")
            }
        }
    }
}
