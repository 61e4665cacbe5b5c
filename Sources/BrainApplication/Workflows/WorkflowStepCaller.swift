import BrainDomain
import Synchronization

/// A request a workflow step sends to a registered service, as the run's caller.
public struct StepRequest: Sendable {
    public var service: ServiceName
    public var method: HttpMethod
    /// The path at the service (after `/{service}`), query included.
    public var path: String
    public var headers: [String: String]
    /// JSON text, or nil for no body.
    public var body: String?
    public var principal: Principal?
    public var tenant: TenantID?
    /// `<run_id>:<step_id>`.
    public var idempotencyKey: String
    public var workflow: ServiceName
    public var runID: String
    public var traceparent: String?
    public var timeoutSeconds: Double

    public init(
        service: ServiceName, method: HttpMethod, path: String, headers: [String: String] = [:], body: String?, principal: Principal?,
        tenant: TenantID?, idempotencyKey: String, workflow: ServiceName, runID: String, traceparent: String?, timeoutSeconds: Double
    ) {
        self.service = service
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.principal = principal
        self.tenant = tenant
        self.idempotencyKey = idempotencyKey
        self.workflow = workflow
        self.runID = runID
        self.traceparent = traceparent
        self.timeoutSeconds = timeoutSeconds
    }
}

/// What came back from a step's request.
/// Integration steps' way out: the outbound proxy, with the run's tenant's stored credentials
/// (the same limits, retries and breaker as a client's proxied call).
public protocol IntegrationStepCaller: Sendable {
    /// The integrations a step may name (checked when a workflow is defined).
    var integrationNames: Set<String> { get }
    func call(
        integration: String, method: HttpMethod, path: String, body: String?, tenant: TenantID, idempotencyKey: String, timeoutSeconds: Double
    ) async -> Result<StepResponse, StepCallFailure>
}

public struct StepResponse: Sendable, Equatable {
    public var status: Int
    /// The body as received (JSON or not).
    public var body: [UInt8]
    public var retryAfterSeconds: Double?

    public init(status: Int, body: [UInt8], retryAfterSeconds: Double? = nil) {
        self.status = status
        self.body = body
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// Why a step's request got no answer.
public enum StepCallFailure: Error, Sendable, Equatable {
    /// No connection, a reset, a timeout: worth another attempt.
    case unreachable(String)
    /// The gateway itself refused (no such service, rate limited, permission, circuit open),
    /// with the status and JSON error it would have answered a client.
    case refused(status: Int, body: [UInt8], retryAfterSeconds: Double?)
    /// Something another attempt would not fix (an answer too large).
    case failed(String)
    /// The caller abandoned the request.
    case cancelled
}

/// Abandons a started step request: its connection is closed (never reused mid-response) and
/// its answer becomes `.cancelled`, if it had not come yet.
public struct StepCallCancellation: Sendable {
    public let cancel: @Sendable () -> Void

    public init(_ cancel: @escaping @Sendable () -> Void) {
        self.cancel = cancel
    }
}

/// The port through which the engine reaches services: the same routing, identity headers,
/// rate limits, breakers, balancing and pooled connections as a proxied request.
///
/// Requests are started with a completion rather than awaited: a run has several in flight and
/// learns of each answer through its inbox, so a task per request would only add a hop.
public protocol WorkflowStepCaller: Sendable {
    /// Starts `request`; `answered` is called exactly once, on any thread.
    func start(_ request: StepRequest, answered: @escaping @Sendable (Result<StepResponse, StepCallFailure>) -> Void) -> StepCallCancellation
}

extension WorkflowStepCaller {
    /// `request`'s answer, awaited; cancelling the calling task abandons the request.
    public func call(_ request: StepRequest) async -> Result<StepResponse, StepCallFailure> {
        let started = Mutex<(cancellation: StepCallCancellation?, cancelled: Bool)>((nil, false))
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<StepResponse, StepCallFailure>, Never>) in
                let cancellation = start(request) { continuation.resume(returning: $0) }
                let cancelledAlready = started.withLock { state in
                    state.cancellation = cancellation
                    return state.cancelled
                }
                if cancelledAlready { cancellation.cancel() }
            }
        } onCancel: {
            started.withLock { state in
                state.cancelled = true
                return state.cancellation
            }?.cancel()
        }
    }
}
