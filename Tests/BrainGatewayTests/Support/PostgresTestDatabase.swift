import Foundation
import Logging
import PostgresNIO

/// A fresh PostgreSQL database per test on the cluster `scripts/test` starts
/// (`BRAIN_TEST_POSTGRES_ADMIN_URL`, superuser): owned by `brain_owner` (the migration role),
/// connectable by `brain_gateway` (the runtime role, which owns nothing).
struct PostgresTestDatabase {
    static var adminURL: String? { ProcessInfo.processInfo.environment["BRAIN_TEST_POSTGRES_ADMIN_URL"] }
    static var available: Bool { adminURL != nil }

    let name: String
    let host: String
    let port: Int

    var ownerURL: String { "postgresql://brain_owner@\(host):\(port)/\(name)?sslmode=disable" }
    var gatewayURL: String { "postgresql://brain_gateway@\(host):\(port)/\(name)?sslmode=disable" }

    static func create() async throws -> PostgresTestDatabase {
        guard let adminURL, let components = URLComponents(string: adminURL), let host = components.host, let port = components.port else {
            throw PostgresTestError.notConfigured
        }
        let name = "brain_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try await withAdmin { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) OWNER brain_owner"))
            try await client.query(PostgresQuery(unsafeSQL: "GRANT CONNECT ON DATABASE \(name) TO brain_gateway"))
        }
        return PostgresTestDatabase(name: name, host: host, port: port)
    }

    /// Runs `body` with a superuser client on the `postgres` database.
    static func withAdmin<T: Sendable>(database: String = "postgres", _ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        guard let adminURL, let components = URLComponents(string: adminURL), let host = components.host, let port = components.port else {
            throw PostgresTestError.notConfigured
        }
        let client = PostgresClient(configuration: .init(host: host, port: port, username: components.user ?? "postgres", password: nil, database: database, tls: .disable))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { await client.run(); return nil }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    /// A client for this database as `user` (`brain_owner` or `brain_gateway`).
    func withClient<T: Sendable>(user: String, _ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let client = PostgresClient(configuration: .init(host: host, port: port, username: user, password: nil, database: name, tls: .disable))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { await client.run(); return nil }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}

enum PostgresTestError: Error { case notConfigured }
