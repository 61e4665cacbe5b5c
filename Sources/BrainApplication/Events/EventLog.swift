import BrainDomain
import Synchronization

/// A domain event as recorded: numbered and timestamped.
public struct RecordedEvent: Sendable, Equatable {
    public let id: Int
    /// Seconds since 1970.
    public let occurredAt: Double
    public let event: DomainEvent
}

/// Receives the domain events the system raises.
public protocol DomainEventSink: Sendable {
    func publish(_ events: [DomainEvent], at time: Double)
}

/// The in-process event log: the most recent events, bounded so memory stays flat.
/// (Durable storage and live streams build on this seam.)
public final class InMemoryEventLog: DomainEventSink {
    /// A ring: once full, each new event overwrites the oldest (`start`), so publishing costs
    /// the same with 10 events kept or 10,000 — every workflow run publishes two.
    private struct State {
        var nextID = 1
        var events: [RecordedEvent] = []
        var start = 0

        var ordered: [RecordedEvent] { start == 0 ? events : Array(events[start...] + events[..<start]) }
    }

    private let state = Mutex(State())
    private let capacity: Int

    public init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    public func publish(_ events: [DomainEvent], at time: Double) {
        guard !events.isEmpty else { return }
        state.withLock { state in
            for event in events {
                let recorded = RecordedEvent(id: state.nextID, occurredAt: time, event: event)
                state.nextID += 1
                if state.events.count < capacity {
                    state.events.append(recorded)
                } else {
                    state.events[state.start] = recorded
                    state.start = (state.start + 1) % capacity
                }
            }
        }
    }

    /// Events oldest first, optionally only of one type.
    public func events(type: String? = nil, limit: Int = 100) -> [RecordedEvent] {
        state.withLock { state in
            let all = state.ordered
            let matching = type.map { t in all.filter { $0.event.typeName == t } } ?? all
            return Array(matching.suffix(limit))
        }
    }
}
