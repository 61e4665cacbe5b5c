import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, with the part of Foundation's `Process` API the
/// tests use.
///
/// Foundation's `Process.run()` walks `/proc/self/fd` to close inherited descriptors and, with
/// many descriptors open (a test process holding hundreds of sockets), copies 256 bytes past a
/// directory entry at the end of `readdir`'s buffer — which crashed test runs. Here the child
/// closes every descriptor above 2 with glibc's `posix_spawn_file_actions_addclosefrom_np`
/// (looked up at run time: Swift's Glibc module does not export it).
final class ChildProcess: @unchecked Sendable {
    var executableURL: URL?
    var arguments: [String] = []
    var environment: [String: String]?
    /// A `Pipe` or a `FileHandle`; nil inherits the test's.
    var standardOutput: Any?
    var standardError: Any?

    private let lock = NIOLock()
    private var pid: pid_t = 0
    private var status: Int32?

    var processIdentifier: Int32 { pid }

    func run() throws {
        guard let executable = executableURL?.path else { throw SpawnError(reason: "no executable") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, source) in [(Int32(1), standardOutput), (Int32(2), standardError)] {
            if let fd = Self.descriptor(source) { posix_spawn_file_actions_adddup2(&actions, fd, target) }
        }
        guard let closeFrom = Self.closeFrom else { throw SpawnError(reason: "posix_spawn_file_actions_addclosefrom_np is unavailable") }
        _ = closeFrom(&actions, 3)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in env { free(p) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, nil, argv, env)
        guard result == 0 else { throw SpawnError(reason: "posix_spawn \(executable): \(String(cString: strerror(result)))") }
        lock.withLock { pid = child }
        // The parent's copies of the pipes' write ends: closed, so readers see end-of-file
        // when the child exits.
        for source in [standardOutput, standardError] {
            if let pipe = source as? Pipe { try? pipe.fileHandleForWriting.close() }
        }
    }

    var isRunning: Bool { poll() == nil }

    /// The exit code, or 128 + the signal that ended the child.
    var terminationStatus: Int32 { poll() ?? -1 }

    func terminate() { kill(pid, SIGTERM) }

    private func poll() -> Int32? {
        lock.withLock {
            if let status { return status }
            guard pid > 0 else { return nil }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
            let signal = raw & 0x7f
            status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
            return status
        }
    }

    private static func descriptor(_ source: Any?) -> Int32? {
        if let pipe = source as? Pipe { return pipe.fileHandleForWriting.fileDescriptor }
        if let handle = source as? FileHandle { return handle.fileDescriptor }
        return nil
    }

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let closeFrom: CloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()

    struct SpawnError: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }
}

/// Starts child processes one at a time, and never while a test holds thousands of sockets
/// (kept from when launches went through Foundation; cheap insurance).
enum ProcessLaunch {
    static func run(_ process: ChildProcess) async throws {
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

extension ChildProcess {
    /// Runs a program to completion (or `timeout`) and returns its exit status and output.
    /// Output goes through files: an empty pipe's read would block a cooperative thread that
    /// an in-process gateway may need to answer the program.
    static func runCapturing(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, timeout: Duration = .seconds(90)
    ) async throws -> (status: Int32, output: String, errors: String) {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let base = NSTemporaryDirectory() + "child-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: base + ".out", contents: nil)
        FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
        try await ProcessLaunch.run(process)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning { process.terminate() }
        let read = { (suffix: String) in String(decoding: FileManager.default.contents(atPath: base + suffix) ?? Data(), as: UTF8.self) }
        return (process.terminationStatus, read(".out"), read(".err"))
    }
}
