import Synchronization

/// Items posted from any thread (a run's answers and timers, the journal's events), taken by one
/// task in batches — everything that arrived since it last looked — so a consumer that falls
/// behind catches up with one step (one store write) for many items.
final class Inbox<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var waiter: CheckedContinuation<[Element]?, Never>?
        var closed = false
    }

    private let state = Mutex(State())

    /// Dropped once closed.
    func post(_ item: Element) {
        post([item])
    }

    /// Dropped once closed.
    func post(_ items: [Element]) {
        guard !items.isEmpty else { return }
        let waiter = state.withLock { s -> CheckedContinuation<[Element]?, Never>? in
            guard !s.closed else { return nil }
            if let waiter = s.waiter {
                s.waiter = nil
                return waiter
            }
            s.items.append(contentsOf: items)
            return nil
        }
        waiter?.resume(returning: items)
    }

    /// Everything posted since the last call, waiting for at least one item; nil once closed
    /// (or the calling task is cancelled) and nothing is left.
    func next() async -> [Element]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[Element]?, Never>) in
                let ready = state.withLock { s -> [Element]?? in
                    if !s.items.isEmpty {
                        defer { s.items.removeAll(keepingCapacity: true) }
                        return .some(s.items)
                    }
                    if s.closed { return .some(nil) }
                    s.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            close()
        }
    }

    /// Ends posting; what was posted before is still taken.
    func close() {
        let waiter = state.withLock { s -> CheckedContinuation<[Element]?, Never>? in
            s.closed = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }
}
