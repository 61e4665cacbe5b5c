import Foundation

/// Starts child processes one at a time, and never while a test holds thousands of sockets.
///
/// swift-corelibs-foundation's `Process.run()` walks `/proc/self/fd` to close inherited
/// descriptors; with thousands of descriptors opening and closing on other threads (the
/// 2,000-connection test) that walk crashed in a `memcpy`. Tests run in parallel, so launches
/// and the socket-heavy test take turns through this gate.
enum ProcessLaunch {
    static func run(_ process: Process) async throws {
        await LaunchGate.shared.acquire()
        do {
            try process.run()
        } catch {
            await LaunchGate.shared.release()
            throw error
        }
        await LaunchGate.shared.release()
    }

    /// Runs `body` with no process being launched meanwhile.
    static func withoutLaunches<T>(_ body: () async throws -> T) async rethrows -> T {
        await LaunchGate.shared.acquire()
        do {
            let result = try await body()
            await LaunchGate.shared.release()
            return result
        } catch {
            await LaunchGate.shared.release()
            throw error
        }
    }
}

/// A first-come, first-served async mutex.
actor LaunchGate {
    static let shared = LaunchGate()
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}
