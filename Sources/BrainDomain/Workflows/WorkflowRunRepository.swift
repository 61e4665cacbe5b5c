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
}
