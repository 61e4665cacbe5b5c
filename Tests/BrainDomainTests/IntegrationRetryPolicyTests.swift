import BrainDomain
import Testing

@Suite struct IntegrationRetryPolicyTests {
    let policy = IntegrationRetryPolicy()

    @Test func onlyNotNowAnswersOfRepeatableCallsAreRetried() {
        for status in [429, 502, 503, 504] {
            #expect(policy.delay(after: .answered(status: status, retryAfter: nil), retry: 1, repeatable: true, random: 0.5) != nil)
            #expect(policy.delay(after: .answered(status: status, retryAfter: nil), retry: 1, repeatable: false, random: 0.5) == nil)
        }
        for status in [200, 400, 401, 404, 500] {
            #expect(policy.delay(after: .answered(status: status, retryAfter: nil), retry: 1, repeatable: true, random: 0.5) == nil)
        }
        // Nothing was sent: safe to retry even a POST; a broken exchange only when repeatable.
        #expect(policy.delay(after: .notConnected, retry: 1, repeatable: false, random: 0.5) != nil)
        #expect(policy.delay(after: .broken, retry: 1, repeatable: false, random: 0.5) == nil)
        #expect(policy.delay(after: .broken, retry: 1, repeatable: true, random: 0.5) != nil)
    }

    @Test func threeRetriesWithFullJitterUnderAnExponentialBound() {
        #expect(policy.delay(after: .notConnected, retry: 4, repeatable: true, random: 0.5) == nil)
        for retry in 1...3 {
            let bound = min(2, 0.1 * Double(1 << (retry - 1)))
            #expect(policy.delay(after: .notConnected, retry: retry, repeatable: true, random: 0) == 0)
            #expect(policy.delay(after: .notConnected, retry: retry, repeatable: true, random: 0.999)! < bound)
            #expect(policy.delay(after: .notConnected, retry: retry, repeatable: true, random: 0.999)! > bound * 0.99)
        }
    }

    @Test func retryAfterIsAFloorUpToThirtySeconds() {
        #expect(policy.delay(after: .answered(status: 503, retryAfter: 5), retry: 1, repeatable: true, random: 0.1) == 5)
        #expect(policy.delay(after: .answered(status: 429, retryAfter: 30), retry: 1, repeatable: true, random: 0.1) == 30)
        #expect(policy.delay(after: .answered(status: 429, retryAfter: 31), retry: 1, repeatable: true, random: 0.1) == nil)
        #expect(IntegrationRetryPolicy.retryAfterSeconds(" 7 ") == 7)
        #expect(IntegrationRetryPolicy.retryAfterSeconds("Wed, 21 Oct 2015 07:28:00 GMT") == nil)
        #expect(IntegrationRetryPolicy.retryAfterSeconds("-3") == nil)
    }

    @Test func idempotentMethodsOrAKeyMakeACallRepeatable() {
        for method in [HttpMethod.get, .head, .options, .put, .delete] {
            #expect(IntegrationRetryPolicy.isRepeatable(method, idempotencyKey: false))
        }
        #expect(!IntegrationRetryPolicy.isRepeatable(.post, idempotencyKey: false))
        #expect(!IntegrationRetryPolicy.isRepeatable(.patch, idempotencyKey: false))
        #expect(IntegrationRetryPolicy.isRepeatable(.post, idempotencyKey: true))
    }

    @Test func theStoredFormKeepsStatusAndBaseURLApartFromTheFields() {
        let connection = IntegrationConnection(credentials: Credentials(["api_key": "k"]), baseURL: "http://sandbox", status: .needsReauth)
        let read = IntegrationConnection(stored: connection.stored)
        #expect(read == connection && read.credentials.fields == ["api_key"])
        #expect(IntegrationConnection(stored: Credentials(["api_key": "k"])).status == .active)
    }
}
