/// A run request's `Idempotency-Key`, remembered per (tenant, workflow, key).
public struct RunIdempotency: Sendable, Equatable {
    public var key: String
    /// A digest of the request body: the same key with another body is a mistake.
    public var bodyDigest: String

    public init(key: String, bodyDigest: String) {
        self.key = key
        self.bodyDigest = bodyDigest
    }
}

/// Which runs a query returns.
public struct RunQuery: Sendable, Equatable {
    /// nil: every tenant's (platform-admin).
    public var tenant: TenantID?
    public var allTenants: Bool
    public var workflow: ServiceName?
    public var status: WorkflowRun.Status?
    public var limit: Int

    public init(tenant: TenantID?, allTenants: Bool = false, workflow: ServiceName? = nil, status: WorkflowRun.Status? = nil, limit: Int = 50) {
        self.tenant = tenant
        self.allTenants = allTenants
        self.workflow = workflow
        self.status = status
        self.limit = limit
    }
}

/// Where runs are kept. A run is stored whole (its steps with it) at every transition, so one
/// write is one consistent state to resume from.
public protocol WorkflowRunRepository: Sendable {
    /// Stores a new run; with `idempotency`, only if no run of that (tenant, workflow, key)
    /// exists — otherwise the existing run (and its idempotency record) is returned instead
    /// and nothing is stored.
    func create(_ run: WorkflowRun, idempotency: RunIdempotency?) async throws -> (existing: WorkflowRun, digest: String)?
    /// Replaces the stored state of a run.
    func save(_ run: WorkflowRun) async throws
    /// The run `id`, if `tenant` may see it (nil: any tenant's).
    func run(id: String, tenant: TenantID?, allTenants: Bool) async throws -> WorkflowRun?
    /// Newest first.
    func runs(_ query: RunQuery) async throws -> [WorkflowRun]
    /// Every run still `running`: what a gateway resumes at start.
    func unfinished() async throws -> [WorkflowRun]
    /// Forgets idempotency records older than `before` (seconds since 1970).
    func forgetIdempotency(before: Double) async throws
    /// Deletes finished runs that started before `before`; returns how many.
    func forgetRuns(startedBefore before: Double) async throws -> Int
}

/// A workflow definition with the JSON document it was read from: what is stored and shown,
/// since the definition itself keeps expressions parsed, not as written.
public struct WorkflowDocument: Sendable, Equatable {
    public let definition: WorkflowDefinition
    /// The definition as a JSON object (the admin API's body, or the YAML entry as JSON).
    public let json: String

    public init(definition: WorkflowDefinition, json: String) {
        self.definition = definition
        self.json = json
    }
}

/// A workflow as stored, with its version (`ETag`).
public struct StoredWorkflow: Sendable, Equatable {
    public let document: WorkflowDocument
    public let version: Int

    public init(document: WorkflowDocument, version: Int) {
        self.document = document
        self.version = version
    }

    public var definition: WorkflowDefinition { document.definition }
}

/// Where workflow definitions are kept, beside the services (same store, same tenant rules).
/// Errors are `RepositoryError`s.
public protocol WorkflowRepository: Sendable {
    func loadAllWorkflows() async throws -> [StoredWorkflow]
    func findWorkflow(name: ServiceName, tenant: TenantID?) async throws -> StoredWorkflow?
    func insertWorkflow(_ workflow: WorkflowDocument) async throws -> StoredWorkflow
    func updateWorkflow(_ workflow: WorkflowDocument, expectedVersion: Int?) async throws -> StoredWorkflow
    func deleteWorkflow(name: ServiceName, tenant: TenantID?, expectedVersion: Int?) async throws
}
