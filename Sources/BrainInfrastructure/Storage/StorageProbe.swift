import BrainApplication
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Answers "is storage reachable?" for `/health/ready`.
public protocol StorageProbe: Sendable {
    func isReachable() async -> Bool
}

/// The embedded store's probe: the SQLite file's directory exists and is writable, so the
/// database file can be opened or created there.
public struct SQLiteFileProbe: StorageProbe {
    let path: String

    public init(path: String) {
        self.path = path
    }

    public func isReachable() async -> Bool {
        var directory = "."
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        }
        return access(directory, W_OK | X_OK) == 0
    }
}
