import BrainApplication
import BrainDomain
import Foundation

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

/// What a live reader receives, in order.
enum FeedItem: Sendable {
    case event(StoredEvent)
    /// Every 15 s while the reader waits (the transport's keep-alive).
    case keepAlive
    /// The reader's token expired: the last item. A stream may not outlive the credential
    /// that opened it; the reader reconnects with a fresh one (`since=` the last id it saw).
    case credentialsExpired
}

/// One live reader's events — the SSE stream and `/ws/events` share it: the replay after
/// `since`, then each new matching event once, in id order, keep-alives while the reader waits,
/// and an end when its token expires.
struct EventFeed: Sendable {
    let filter: EventFilter
    let replay: [StoredEvent]
    let live: AsyncStream<StoredEvent>
    /// The opening token's `exp` (seconds since 1970).
    let expiresAt: Double
    static let keepAliveSeconds: Double = 15

    /// The items in order; ends when the journal stops or the token expires. Dropping the
    /// stream (the reader went away) cancels its two feeding tasks and the journal
    /// subscription with them.
    func items() -> AsyncStream<FeedItem> {
        let (output, sink) = AsyncStream<FeedItem>.makeStream()
        let (filter, replay, live, expiresAt) = (self.filter, self.replay, self.live, self.expiresAt)
        let now = { Date().timeIntervalSince1970 }
        let pump = Task {
            var last = replay.last?.id ?? filter.since ?? 0
            for event in replay { sink.yield(.event(event)) }
            for await event in live where event.id > last && filter.matches(event) {
                sink.yield(.event(event))
                last = event.id
            }
            sink.finish()
        }
        let clock = Task {
            while !Task.isCancelled {
                let left = expiresAt - now()
                guard left > 0 else {
                    sink.yield(.credentialsExpired)
                    sink.finish()
                    return
                }
                guard (try? await Task.sleep(for: .seconds(min(Self.keepAliveSeconds, left)))) != nil else { return }
                if now() < expiresAt { sink.yield(.keepAlive) }
            }
        }
        sink.onTermination = { _ in
            pump.cancel()
            clock.cancel()
        }
        return output
    }
}
