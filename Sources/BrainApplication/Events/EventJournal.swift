import BrainDomain
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The durable, append-only event log.
///
/// Events are raised synchronously from anywhere — the data plane's breakers on an event loop
/// included — so `publish` never waits: it records the event in the in-memory recent log and
/// queues it. This service's `run` appends the queue to the `EventRepository` in order — all that
/// is queued in one append, so under load many events share a commit — and then hands the
/// numbered events to live subscribers (the SSE stream). It also enforces retention.
public final class EventJournal: DomainEventSink, Service {
    public let recent: InMemoryEventLog
    private let repository = Mutex<(any EventRepository)?>(nil)
    private let retentionSeconds: Double
    private let logger: Logger
    private let queue = Inbox<TimedEvent>()
    private let subscribers = Mutex<[Int: AsyncStream<StoredEvent>.Continuation]>([:])
    private let nextSubscriber = Mutex(0)
    private let pending = Mutex(0)

    /// Events published before a repository is attached wait in the queue.
    public init(recent: InMemoryEventLog, retentionSeconds: Double, logger: Logger) {
        self.recent = recent
        self.retentionSeconds = retentionSeconds
        self.logger = logger
    }

    /// Where events are stored; set once the store is open (before `run`).
    public func attach(_ repository: any EventRepository) {
        self.repository.withLock { $0 = repository }
    }

    private var store: (any EventRepository)? { repository.withLock { $0 } }

    public func publish(_ events: [DomainEvent], at time: Double) {
        guard !events.isEmpty else { return }
        recent.publish(events, at: time)
        pending.withLock { $0 += events.count }
        queue.post(events.map { TimedEvent($0, at: time) })
    }

    public func run() async throws {
        await prune()
        let pruning = Task {
            // A cancelled sleep ends the loop: pruning after it would only fail with the
            // cancellation (a spurious warning at every shutdown).
            while (try? await Task.sleep(for: .seconds(3600))) != nil {
                await prune()
            }
        }
        defer { pruning.cancel() }
        // Keep writing until shutdown; what was queued by then is still written.
        await withGracefulShutdownHandler {
            while let events = await queue.next() {
                await write(events)
            }
        } onGracefulShutdown: {
            self.queue.close()
        }
        // Finished outside the lock: finishing runs each stream's termination handler, which
        // takes the lock itself.
        let remaining = subscribers.withLock { all in
            defer { all.removeAll() }
            return Array(all.values)
        }
        for continuation in remaining { continuation.finish() }
    }

    private func write(_ events: [TimedEvent]) async {
        do {
            guard let store else { throw JournalError.noStore }
            let stored = try await store.append(events)
            let listeners = subscribers.withLock { Array($0.values) }
            for event in stored { for listener in listeners { listener.yield(event) } }
        } catch {
            logger.error("could not store domain events", metadata: ["error": "\(error)", "count": .stringConvertible(events.count)])
        }
        pending.withLock { $0 -= events.count }
    }

    private func prune() async {
        guard let store else { return }
        do {
            let removed = try await store.prune(before: Date().timeIntervalSince1970 - retentionSeconds)
            if removed > 0 { logger.info("old domain events pruned", metadata: ["count": .stringConvertible(removed)]) }
        } catch {
            logger.warning("could not prune domain events", metadata: ["error": "\(error)"])
        }
    }

    /// Events as they are stored from now on, until the returned stream is dropped.
    public func subscribe() -> AsyncStream<StoredEvent> {
        let id = nextSubscriber.withLock { $0 += 1; return $0 }
        let (stream, continuation) = AsyncStream<StoredEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        continuation.onTermination = { [weak self] _ in self?.subscribers.withLock { _ = $0.removeValue(forKey: id) } }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    /// Stored events (the events API).
    public func query(type: String?, tenant: TenantID?, since: Int64?, limit: Int) async throws -> [StoredEvent] {
        guard let store else { throw JournalError.noStore }
        return try await store.events(type: type, tenant: tenant, since: since, limit: limit)
    }

    /// Waits until everything published so far is stored (tests, shutdown checks).
    public func flushed(timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while pending.withLock({ $0 }) > 0 {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }
}

enum JournalError: Error { case noStore }
