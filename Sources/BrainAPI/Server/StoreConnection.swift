import BrainApplication
import BrainDomain
import BrainInfrastructure
import Logging
import PostgresNIO

/// The open store of `DATABASE_URL`: SQLite by default, PostgreSQL for replicas. Owns the
/// PostgreSQL client's run task, which must be running before any query and outlive the
/// services that still write (the event journal drains on shutdown).
struct StoreConnection: Sendable {
    let repository: any ServiceRepository
    let events: any EventRepository
    let probe: any StorageProbe
    let runs: any WorkflowRunRepository
    let workflows: any WorkflowRepository
    /// Where the embedded secret store keeps its sealed credentials.
    let sealedRecords: any SealedRecordStore
    /// Set for PostgreSQL: replicas listen on it for changes.
    let postgres: PostgresClient?
    private let closer: @Sendable () async -> Void

    func close() async { await closer() }

    /// Opens the store; a failure is reported as a configuration error naming `DATABASE_URL`
    /// (the process prints it as one line and exits 1).
    static func open(configuration: GatewayConfiguration, logger: Logger) async throws -> StoreConnection {
        do {
            return try await connect(configuration: configuration, logger: logger)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(
                field: configuration.settings.migrationDatabaseURL == nil ? "DATABASE_URL" : "DATABASE_URL/BRAIN_GATEWAY_MIGRATION_DATABASE_URL",
                reason: "cannot open \(configuration.settings.storage): \(String(describing: error).split(separator: "\n").first ?? "")")
        }
    }

    private static func connect(configuration: GatewayConfiguration, logger: Logger) async throws -> StoreConnection {
        let defaults = configuration.serviceDefaults
        let reader: @Sendable (String) throws -> ServiceRoute = { json in
            try ServiceFileLoader().serviceDocument(json: json, defaults: defaults)
        }
        let workflowReader: @Sendable (String) throws -> WorkflowDefinition = { json in
            try WorkflowDocumentReader().workflowDocument(json: json)
        }
        switch configuration.settings.storage {
        case .sqlite(let path):
            let store = try await SQLiteRegistryStore.open(path: path, reader: reader, logger: logger)
            return StoreConnection(
                repository: store, events: store, probe: SQLiteFileProbe(path: path), runs: SQLiteRunStore(store),
                workflows: SQLiteWorkflowStore(store, reader: workflowReader), sealedRecords: SQLiteSealedRecords(store), postgres: nil,
                closer: { await store.close() })
        case .postgres(let url):
            let runtime = try PostgresRegistryStore.configuration(url: url)
            let client = PostgresClient(configuration: runtime, backgroundLogger: logger)
            let running = Task { await client.run() }
            do {
                if let migrationURL = configuration.settings.migrationDatabaseURL {
                    let owner = try PostgresRegistryStore.configuration(url: migrationURL)
                    let migrationClient = PostgresClient(configuration: owner, backgroundLogger: logger)
                    let migrating = Task { await migrationClient.run() }
                    defer { migrating.cancel() }
                    try await PostgresRegistryStore.migrate(using: migrationClient, runtimeRole: runtime.username, migrationRole: owner.username, logger: logger)
                } else {
                    try await PostgresRegistryStore.migrate(using: client, runtimeRole: runtime.username, migrationRole: runtime.username, logger: logger)
                }
            } catch {
                running.cancel()
                throw error
            }
            let store = PostgresRegistryStore(client: client, reader: reader, logger: logger)
            return StoreConnection(
                repository: store, events: store, probe: PostgresStorageProbe(client: client), runs: PostgresRunStore(store, logger: logger),
                workflows: PostgresWorkflowStore(store, reader: workflowReader, logger: logger),
                sealedRecords: PostgresSealedRecords(store, logger: logger), postgres: client, closer: { running.cancel() })
        }
    }
}
