import BrainApplication
import BrainDomain

/// Which stored events a reader asked for (`type`, `tenant_id`, `since`, `limit` query fields).
struct EventFilter: Sendable {
    var type: String?
    var tenant: TenantID?
    var since: Int64?
    var limit = 100

    func matches(_ event: StoredEvent) -> Bool {
        (type == nil || event.type == type) && (tenant == nil || event.tenantID == tenant?.value)
    }
}

/// One live reader's events — the SSE stream and `/ws/events` share it: the replay after
/// `since`, then each new matching event once, in id order, and `nil` every 15 s while the
/// reader waits (the transport's keep-alive).
struct EventFeed: Sendable {
    let filter: EventFilter
    let replay: [StoredEvent]
    let live: AsyncStream<StoredEvent>

    /// The items in order; ends when the journal stops. Dropping the stream (the reader went
    /// away) cancels its two feeding tasks and the journal subscription with them.
    func items() -> AsyncStream<StoredEvent?> {
        let (output, sink) = AsyncStream<StoredEvent?>.makeStream()
        let (filter, replay, live) = (self.filter, self.replay, self.live)
        let pump = Task {
            var last = replay.last?.id ?? filter.since ?? 0
            for event in replay { sink.yield(event) }
            for await event in live where event.id > last && filter.matches(event) {
                sink.yield(event)
                last = event.id
            }
            sink.finish()
        }
        let heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(15))
                if !Task.isCancelled { sink.yield(nil) }
            }
        }
        sink.onTermination = { _ in
            pump.cancel()
            heartbeat.cancel()
        }
        return output
    }
}
