import BrainApplication
import BrainDomain
import Logging
import Synchronization
import Testing

/// The optimiser's loop around its ports, without sockets: what it asks of them and when.
@Suite struct OptimiserLoopTests {
    /// Counts the reads and takes its time answering, as reading every event loop does.
    final class SlowEvidence: TrafficEvidenceSource {
        let reads = Mutex(0)
        func evidence(for services: [ServiceRoute]) async -> [ServiceKey: ServiceTrafficSample] {
            reads.withLock { $0 += 1 }
            try? await Task.sleep(for: .milliseconds(200))
            return [:]
        }
    }

    struct NoRuns: OptimiserRuns {
        func callAgent(_ name: String, action: String, input: JSONValue, tenant: TenantID?) async throws -> String { "agent-run" }
        func runWorkflow(_ name: String, input: JSONValue, tenant: TenantID?) async throws -> String { "workflow-run" }
    }

    @Test func analysesAskedForAtOnceRunOnce() async throws {
        let source = SlowEvidence()
        let optimiser = Optimiser(
            settings: OptimiserSettings(), registry: ServiceRegistry(services: []), source: source, runs: NoRuns(),
            events: InMemoryEventLog(), counters: TrafficCounters(), logger: Logger(label: "test"), clock: { 0 })
        // Two callers at once (the loop and `optimize-platform`): one analysis, one read.
        async let first = optimiser.analyse()
        async let second = optimiser.analyse()
        _ = await (first, second)
        #expect(source.reads.withLock { $0 } == 1)
        // Later, a new analysis reads again.
        _ = await optimiser.analyse()
        #expect(source.reads.withLock { $0 } == 2)
        #expect(await optimiser.status().lastAnalysisAt == 0)
    }
}
