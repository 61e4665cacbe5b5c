import BrainApplication
import BrainDomain
import Logging
import PostgresNIO
import ServiceLifecycle

/// Keeps this replica's registry in step with the shared PostgreSQL store: LISTENs on the
/// change channel and refreshes the one service each notification names; after every
/// (re)connection it reloads the whole registry first, so a change made while the connection
/// was down is never missed. A change made on any replica is serving here within the
/// notification's round trip (milliseconds), far inside design's one second.
public struct RegistryChangeListener: Service {
    private let client: PostgresClient
    private let administration: RegistryAdministration
    private let workflows: WorkflowAdministration?
    private let logger: Logger

    public init(client: PostgresClient, administration: RegistryAdministration, workflows: WorkflowAdministration? = nil, logger: Logger) {
        self.client = client
        self.administration = administration
        self.workflows = workflows
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var delay: Duration = .milliseconds(100)
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: PostgresRegistryStore.changeChannel) { notifications in
                            // Listening before the reload: nothing can fall between the two.
                            try await administration.reload()
                            try await workflows?.reload()
                            delay = .milliseconds(100)
                            for try await notification in notifications {
                                try await apply(notification.payload)
                            }
                        }
                    }
                } catch {
                    guard !Task.isCancelled else { return }
                    logger.warning("registry change listener lost its connection; resyncing", metadata: ["error": "\(String(reflecting: error))"])
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// `payload` is "<tenant uuid or empty>/<service name>", or the same after `workflow:`.
    private func apply(_ payload: String) async throws {
        var payload = Substring(payload)
        let isWorkflow = payload.hasPrefix(PostgresWorkflowStore.notificationPrefix)
        if isWorkflow { payload = payload.dropFirst(PostgresWorkflowStore.notificationPrefix.count) }
        guard let slash = payload.firstIndex(of: "/") else { return }
        let tenantText = payload[..<slash]
        guard let name = try? ServiceName(String(payload[payload.index(after: slash)...])) else { return }
        let tenant = tenantText.isEmpty ? nil : try? TenantID(String(tenantText))
        if isWorkflow {
            try await workflows?.refresh(name: name, tenant: tenant)
        } else {
            try await administration.refresh(name: name, tenant: tenant)
        }
    }
}

/// Readiness for a PostgreSQL store: a `SELECT 1` answered within two seconds.
public struct PostgresStorageProbe: StorageProbe {
    private let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    public func isReachable() async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    try await client.query("SELECT 1")
                    return true
                } catch {
                    return false
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(2))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
