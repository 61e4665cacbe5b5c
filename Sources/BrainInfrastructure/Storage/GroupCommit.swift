/// Group commit: while one batch of writes is being committed, the writes that arrive wait and
/// go together in the next one. Under load every commit then carries many writes (one statement,
/// one transaction, one trip to the store's thread), and alone a write still goes at once.
///
/// A pure value: the store drives it under its lock and performs the commits it asks for.
struct GroupCommit<Write> {
    private var waiting: [Write] = []
    private var committing = false
    /// The most writes one commit carries (a statement's bound parameters are bounded).
    let limit: Int

    init(limit: Int) {
        precondition(limit > 0)
        self.limit = limit
    }

    /// A write arrived: the batch to commit now, or nil when it waits for the commit in flight.
    mutating func arrived(_ write: Write) -> [Write]? {
        if committing {
            waiting.append(write)
            return nil
        }
        committing = true
        return [write]
    }

    /// The commit in flight ended (either way): the next batch to commit, or nil when none waits.
    mutating func committed() -> [Write]? {
        guard !waiting.isEmpty else {
            committing = false
            return nil
        }
        guard waiting.count > limit else {
            defer { waiting = [] }
            return waiting
        }
        defer { waiting.removeFirst(limit) }
        return Array(waiting.prefix(limit))
    }
}
