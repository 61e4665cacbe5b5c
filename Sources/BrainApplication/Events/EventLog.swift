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
    private struct State {
        var nextID = 1
        var events: [RecordedEvent] = []
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
                state.events.append(RecordedEvent(id: state.nextID, occurredAt: time, event: event))
                state.nextID += 1
            }
            if state.events.count > capacity {
                state.events.removeFirst(state.events.count - capacity)
            }
        }
    }

    /// Events oldest first, optionally only of one type.
    public func events(type: String? = nil, limit: Int = 100) -> [RecordedEvent] {
        state.withLock { state in
            let matching = type.map { t in state.events.filter { $0.event.typeName == t } } ?? state.events
            return Array(matching.suffix(limit))
        }
    }
}
