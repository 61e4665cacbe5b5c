import BrainApplication
import Testing

/// One OAuth refresh at a time per (tenant, integration), without sockets or clocks.
@Suite struct TokenRefreshMachineTests {
    @Test func twentyCallsWithAnExpiredTokenMakeOneRefresh() {
        var tokens = TokenRefreshMachine<Int>(token: "old", expiresAt: 1_000)
        #expect(tokens.tokenNeeded(by: 0, now: 900) == .use("old"))
        // 20 s before expiry counts as expired (30 s margin).
        var decisions = (1...20).map { tokens.tokenNeeded(by: $0, now: 980) }
        #expect(decisions.filter { $0 == .refresh(generation: 1) }.count == 1)
        #expect(decisions.filter { $0 == .wait }.count == 19)
        let resumed = tokens.refreshed(token: "new", expiresAt: 5_000, generation: 1)
        #expect(Set(resumed) == Set(2...20))
        #expect(tokens.tokenNeeded(by: 21, now: 990) == .use("new"))
        // A 401 for the token in use refreshes it even before expiry; a 401 for an older one
        // (already replaced) does not.
        #expect(tokens.tokenNeeded(by: 22, now: 1_000, rejected: "old") == .use("new"))
        decisions = [tokens.tokenNeeded(by: 23, now: 1_000, rejected: "new")]
        #expect(decisions == [.refresh(generation: 2)])
    }

    @Test func aRefusedRefreshMeansReauthForEveryoneUntilNewCredentials() {
        var tokens = TokenRefreshMachine<Int>(token: nil, expiresAt: nil)
        #expect(tokens.tokenNeeded(by: 1, now: 0) == .refresh(generation: 1))
        #expect(tokens.tokenNeeded(by: 2, now: 0) == .wait)
        #expect(tokens.refused(generation: 1) == [2])
        #expect(tokens.tokenNeeded(by: 3, now: 1) == .needsReauth)
        #expect(tokens.reset(token: "fresh", expiresAt: nil).isEmpty)
        #expect(tokens.tokenNeeded(by: 4, now: 2) == .use("fresh"))
    }

    @Test func anUnreachableProviderFailsTheWaitersAndTheNextCallTriesAgain() {
        var tokens = TokenRefreshMachine<Int>(token: "t", expiresAt: 10)
        #expect(tokens.tokenNeeded(by: 1, now: 100) == .refresh(generation: 1))
        #expect(tokens.tokenNeeded(by: 2, now: 100) == .wait)
        #expect(tokens.failed(generation: 1) == [2])
        #expect(tokens.tokenNeeded(by: 3, now: 101) == .refresh(generation: 2))
    }

    @Test func aRefreshThatEndsAfterNewCredentialsIsIgnored() {
        var tokens = TokenRefreshMachine<Int>(token: nil, expiresAt: nil)
        #expect(tokens.tokenNeeded(by: 1, now: 0) == .refresh(generation: 1))
        #expect(tokens.tokenNeeded(by: 2, now: 0) == .wait)
        // An administrator stores new credentials meanwhile: the waiter asks again.
        #expect(tokens.reset(token: "admin-set", expiresAt: nil) == [2])
        #expect(tokens.refreshed(token: "stale", expiresAt: nil, generation: 1).isEmpty)
        #expect(tokens.refused(generation: 1).isEmpty)
        #expect(tokens.tokenNeeded(by: 2, now: 1) == .use("admin-set"))
    }
}
