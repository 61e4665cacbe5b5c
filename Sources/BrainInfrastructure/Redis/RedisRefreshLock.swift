import BrainRESP
import Foundation

/// A lease on a refresh that only one replica may make at a time (an OAuth token refresh: two
/// replicas refreshing with one rotating refresh token lock the tenant out).
public enum RefreshLease: Sendable {
    /// This replica refreshes; `release` lets the lock go early (it also expires by itself).
    case acquired(release: @Sendable () async -> Void)
    /// Another replica is refreshing now.
    case heldElsewhere
    /// No lock could be asked for (Redis unreachable): refresh, as one replica would.
    case unavailable
}

public protocol RefreshLock: Sendable {
    func acquire(_ name: String, for seconds: Double) async -> RefreshLease
}

/// `SET name token NX PX …` in Redis; released only by its holder (compare and delete).
public struct RedisRefreshLock: RefreshLock {
    private let client: RedisClient

    static let release = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """

    public init(client: RedisClient) {
        self.client = client
    }

    public func acquire(_ name: String, for seconds: Double) async -> RefreshLease {
        let token = UUID().uuidString
        let milliseconds = Int64(max(1, seconds * 1000))
        guard let reply = try? await client.send(RESPCommand("SET", [.text(name), .text(token), .text("NX"), .text("PX"), .integer(milliseconds)])) else {
            return .unavailable
        }
        switch reply {
        case .simpleString("OK"):
            let client = self.client
            return .acquired {
                _ = try? await client.send(RESPCommand("EVAL", [.text(Self.release), .integer(1), .text(name), .text(token)]))
            }
        case .null:
            return .heldElsewhere
        default:
            return .unavailable
        }
    }
}
