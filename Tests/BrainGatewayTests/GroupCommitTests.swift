@testable import BrainInfrastructure
import Testing

/// The group-commit rule, without a database: alone a write goes at once; writes that arrive
/// during a commit go together in the next, at most `limit` per commit.
@Suite struct GroupCommitTests {
    @Test func aLoneWriteCommitsAtOnceAndTheQueueEmpties() {
        var commits = GroupCommit<Int>(limit: 10)
        #expect(commits.arrived(1) == [1])
        #expect(commits.committed() == nil)
        #expect(commits.arrived(2) == [2])  // idle again: no waiting
    }

    @Test func writesDuringACommitGoTogetherInTheNext() {
        var commits = GroupCommit<Int>(limit: 10)
        #expect(commits.arrived(1) == [1])
        #expect(commits.arrived(2) == nil)
        #expect(commits.arrived(3) == nil)
        #expect(commits.committed() == [2, 3])
        #expect(commits.arrived(4) == nil)  // [2, 3] is in flight
        #expect(commits.committed() == [4])
        #expect(commits.committed() == nil)
    }

    @Test func aCommitCarriesAtMostTheLimitInArrivalOrder() {
        var commits = GroupCommit<Int>(limit: 2)
        #expect(commits.arrived(0) == [0])
        for i in 1...5 { #expect(commits.arrived(i) == nil) }
        #expect(commits.committed() == [1, 2])
        #expect(commits.committed() == [3, 4])
        #expect(commits.committed() == [5])
        #expect(commits.committed() == nil)
    }
}
