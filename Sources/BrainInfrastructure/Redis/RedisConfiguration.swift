import BrainRESP
import Foundation

/// Where the shared state lives and how long a call may take: `REDIS_URL`
/// (`redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS), `REDIS_TIMEOUT_MS`.
public struct RedisConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var tls: Bool
    public var username: String?
    public var password: String?
    public var database: Int
    /// Per call: past it the caller decides without Redis (degraded mode).
    public var timeout: TimeInterval
    /// PEM CA certificates trusted for `rediss://` on top of the system's (`REDIS_CA_FILE`).
    public var caFile: String?

    public enum Invalid: Error, Equatable, CustomStringConvertible {
        case url(String)
        public var description: String {
            switch self { case .url(let why): "REDIS_URL: \(why)" }
        }
    }

    public init(host: String, port: Int = 6379, tls: Bool = false, username: String? = nil, password: String? = nil, database: Int = 0, timeout: TimeInterval = 0.05) {
        self.host = host
        self.port = port
        self.tls = tls
        self.username = username
        self.password = password
        self.database = database
        self.timeout = timeout
    }

    /// Parses `REDIS_URL`. The error never repeats the URL: it may carry a password.
    public init(url: String, timeout: TimeInterval) throws(Invalid) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw .url("not a URL (expected redis://host:port/db)")
        }
        guard scheme == "redis" || scheme == "rediss" else { throw .url("scheme must be redis or rediss") }
        guard let host = components.host, !host.isEmpty else { throw .url("no host") }
        let port = components.port ?? 6379
        guard (1...65535).contains(port) else { throw .url("port must be 1-65535") }
        var database = 0
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let number = Int(path), (0...15_999).contains(number) else { throw .url("the path must be a database number") }
            database = number
        }
        let user = components.user.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding ?? $0 }
        let password = components.password.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding ?? $0 }
        self.init(host: host, port: port, tls: scheme == "rediss", username: password == nil ? nil : user, password: password ?? user, database: database, timeout: timeout)
    }

    /// The commands that open every connection: `AUTH` when there is a password, `SELECT`
    /// for a database other than 0.
    var greeting: [RESPCommand] {
        var commands: [RESPCommand] = []
        if let password {
            commands.append(username.map { RESPCommand("AUTH", $0, password) } ?? RESPCommand("AUTH", password))
        }
        if database != 0 { commands.append(RESPCommand("SELECT", String(database))) }
        return commands
    }

    /// `host:port/db`, for logs: never the password.
    public var redactedDescription: String {
        "\(tls ? "rediss" : "redis")://\(host):\(port)/\(database)"
    }
}
