import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import NIOCore
import NIOHTTP1

/// The workflow engine's way to services: the data plane's own stages — route resolution with
/// tenant shadowing, permission, rate limit, breakers and balancing, the loop's connection pool,
/// the upstream identity headers (`X-Tenant-ID`, `X-Brain-Token`, `traceparent`) — applied to a
/// request composed by a step instead of one read from a client socket.
///
/// Each call runs on one event loop of the server's group, chosen round-robin, as a
/// `StepExchange`, which calls the completion from that loop.
public final class GatewayStepCaller: WorkflowStepCaller {
    private let environment: DataPlaneEnvironment
    private let group: any EventLoopGroup

    /// Step answers larger than this fail the step: they are stored with the run.
    public static let maxAnswerBytes = 1 << 20

    public init(environment: DataPlaneEnvironment, group: any EventLoopGroup) {
        self.environment = environment
        self.group = group
    }

    public func start(
        _ request: StepRequest, answered: @escaping @Sendable (Result<StepResponse, StepCallFailure>) -> Void
    ) -> StepCallCancellation {
        let loop = group.next()
        let environment = self.environment
        let box = ExchangeBox()
        let begin: @Sendable () -> Void = {
            guard !box.cancelledEarly else { return answered(.failure(.cancelled)) }
            let exchange = StepExchange(request: request, environment: environment, loop: loop, complete: answered)
            box.exchange = exchange
            exchange.start()
        }
        if loop.inEventLoop { begin() } else { loop.execute(begin) }
        return StepCallCancellation {
            loop.execute {
                if let exchange = box.exchange { exchange.cancel() } else { box.cancelledEarly = true }
            }
        }
    }
}

/// Hands the loop-bound exchange to the cancellation handler, which runs its part on that loop.
private final class ExchangeBox: @unchecked Sendable {
    var exchange: StepExchange?
    var cancelledEarly = false
}

/// One step request on one event loop: refusals first (as a client would get them), then one
/// attempt on a pooled connection, its answer collected whole. Retries are the engine's (with
/// the step's own policy), not the service's proxy retries.
final class StepExchange: UpstreamResponseReceiver {
    private let request: StepRequest
    private let environment: DataPlaneEnvironment
    private let loop: any EventLoop
    private var complete: ((Result<StepResponse, StepCallFailure>) -> Void)?
    private var traffic: ServiceTraffic?
    private var instanceIndex: Int?
    private var connection: UpstreamConnection?
    private var timer: Scheduled<Void>?
    private var status = 0
    private var retryAfter: Double?
    private var body: [UInt8] = []
    private var writtenAt = NIODeadline.now()
    private var outcomeRecorded = false
    private let requestID: String
    private let startedAt = NIODeadline.now()

    init(request: StepRequest, environment: DataPlaneEnvironment, loop: any EventLoop, complete: @escaping (Result<StepResponse, StepCallFailure>) -> Void) {
        self.request = request
        self.environment = environment
        self.loop = loop
        self.complete = complete
        self.requestID = request.idempotencyKey
    }

    func start() {
        let directory = environment.registry.directory
        let method = request.method
        let uri = "/" + request.service.value + request.path
        let resolved: RouteResolution.Resolved
        switch RouteResolution().resolve(uri: uri, method: method, tenant: request.tenant, in: directory) {
        case .success(let r): resolved = r
        case .failure(let error): return refuse(error)
        }
        if let principal = request.principal, let error = Permission().check(principal, service: resolved.entry.service, route: resolved.route) {
            return refuse(error)
        }
        let now = DataPlaneHandler.policyNow()
        switch environment.rateLimiting.check(service: resolved.entry.service, tenant: request.tenant, now: now, on: loop) {
        case .decided(let verdict):
            admitted(verdict, resolved: resolved, now: now)
        case .pending(let decision):
            // Shared limits: a step counts against the same limit as the proxied requests.
            decision.assumeIsolated().whenComplete { result in
                guard case .success(let verdict) = result else { return self.refuse(.rateLimited, retryAfter: 1) }
                self.admitted(verdict, resolved: resolved, now: now)
            }
        }
    }

    private func admitted(_ verdict: RateLimiting.Verdict, resolved: RouteResolution.Resolved, now: Double) {
        let directory = environment.registry.directory
        guard verdict.allowed else {
            environment.counters.requestRateLimited()
            return refuse(.rateLimited, retryAfter: Double(verdict.retryAfterSeconds))
        }
        guard let loopTraffic = environment.traffic.traffic(for: loop), let pool = environment.pools.pool(for: loop) else {
            return refuse(.noInstance)
        }
        let traffic = loopTraffic.traffic(for: resolved.entry, in: directory)
        self.traffic = traffic
        let choice = traffic.choose(now: now, excluding: nil, random: &loopTraffic.random)
        guard case .instance(let index, _) = choice else {
            if case .noneAdmitted(let after) = choice { return refuse(.circuitOpen, retryAfter: after) }
            return refuse(.noInstance)
        }
        instanceIndex = index
        traffic.balancer.requestStarted(index)
        let instance = traffic.service.instances[index]
        timer = loop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(max(0.001, request.timeoutSeconds) * 1e9))) { [weak self] in
            guard let self else { return }
            self.fail("no answer within \(Int(self.request.timeoutSeconds * 1000)) ms", retryable: true)
        }
        switch pool.acquire(instance) {
        case .ready(let connection):
            send(on: connection, instance: instance, upstreamURI: resolved.upstreamURI)
        case .connecting(let future):
            future.assumeIsolated().whenComplete { [weak self] result in
                guard let self, self.complete != nil else {
                    if case .success(let connection) = result { pool.release(connection, reusable: true) }
                    return
                }
                switch result {
                case .success(let connection): self.send(on: connection, instance: instance, upstreamURI: resolved.upstreamURI)
                case .failure(let error): self.fail("could not connect: \(UpstreamFailure.connectFailed(error).description)", retryable: true)
                }
            }
        }
    }

    private func send(on connection: UpstreamConnection, instance: UpstreamInstance, upstreamURI: String) {
        self.connection = connection
        connection.receiver = self
        var headers = HTTPHeaders()
        for (name, value) in request.headers { headers.add(name: name, value: value) }
        let body = request.body.map { ByteBuffer(string: $0) }
        if let body {
            headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
        } else if request.method == .post || request.method == .put || request.method == .patch {
            headers.replaceOrAdd(name: "Content-Length", value: "0")
        }
        headers.replaceOrAdd(name: "Accept", value: "application/json")
        headers.replaceOrAdd(name: "Idempotency-Key", value: request.idempotencyKey)
        headers.replaceOrAdd(name: "X-Brain-Workflow", value: request.workflow.value)
        headers.replaceOrAdd(name: "X-Brain-Run-ID", value: request.runID)
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method.description), uri: upstreamURI, headers: headers)
        let proof = environment.proofOfOrigin.cache(for: loop)?.token(
            service: request.service.value, principal: request.principal, tenant: request.tenant, now: Date().timeIntervalSince1970)
        var bytes = connection.channel?.allocator.buffer(capacity: 2048) ?? ByteBuffer()
        let chunked = UpstreamRequestHeaders().write(
            from: head, uri: upstreamURI, instance: instance, requestID: requestID, clientAddress: nil, tenant: request.tenant,
            proofToken: proof, traceparent: request.traceparent, into: &bytes)
        connection.writeHead(bytes, method: head.method, chunked: chunked)
        writtenAt = .now()
        if let body { connection.writeBody(body) }
        connection.writeEnd()
    }

    // MARK: UpstreamResponseReceiver

    func upstreamResponseHead(_ head: UpstreamResponseHead) {
        guard complete != nil else { return }
        status = Int(head.status.code)
        retryAfter = head.headers.first(name: "retry-after").flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        let latency = Double((NIODeadline.now() - writtenAt).nanoseconds) / 1e9
        if let traffic {
            recordOutcome(traffic.service.circuitBreaker.isFailure(status: status) ? .failure : .success, latency: latency, status: status)
        }
    }

    func upstreamResponseBody(_ part: ByteBuffer) {
        guard complete != nil else { return }
        guard body.count + part.readableBytes <= GatewayStepCaller.maxAnswerBytes else {
            return fail("the answer is larger than \(GatewayStepCaller.maxAnswerBytes) bytes", retryable: false)
        }
        body.append(contentsOf: part.readableBytesView)
    }

    func upstreamResponseEnd() {
        guard complete != nil else { return }
        if let connection {
            self.connection = nil
            environment.pools.pool(for: loop)?.release(connection, reusable: true)
        }
        finish(.success(StepResponse(status: status, body: body, retryAfterSeconds: retryAfter)))
    }

    func upstreamFailed(_ failure: UpstreamFailure) {
        connection = nil
        fail(failure.description, retryable: true)
    }

    func upstreamWritabilityChanged(isWritable: Bool) {}
    func upstreamReadComplete() {}

    // MARK: Ending

    /// The calling task was cancelled: the connection is mid-exchange, so it is closed.
    func cancel() {
        guard complete != nil else { return }
        recordOutcome(.abandoned, latency: nil)
        dropConnection()
        finish(.failure(.cancelled), error: "cancelled")
    }

    private func refuse(_ error: GatewayError, retryAfter: Double? = nil) {
        let body = error.body(requestID: requestID, allocator: ByteBufferAllocator())
        finish(.failure(.refused(status: Int(error.status.code), body: Array(body.readableBytesView), retryAfterSeconds: retryAfter)), error: error.code)
    }

    private func fail(_ reason: String, retryable: Bool) {
        guard complete != nil else { return }
        if !outcomeRecorded, let instance = instanceIndex.flatMap({ traffic?.service.instances[$0] }), let traffic {
            environment.health.recordRequestFailure(service: traffic.service, instance: instance, error: reason)
        }
        recordOutcome(.failure, latency: nil)
        dropConnection()
        finish(.failure(retryable ? .unreachable(reason) : .failed(reason)), error: reason)
    }

    /// Closes the connection mid-exchange: it is never reused with an answer half read.
    private func dropConnection() {
        guard let connection else { return }
        self.connection = nil
        connection.receiver = nil
        connection.close()
    }

    private func recordOutcome(_ outcome: ServiceBreakers.Outcome, latency: Double?, status: Int = 0) {
        guard !outcomeRecorded, let index = instanceIndex, let traffic else { return }
        outcomeRecorded = true
        traffic.record(outcome, instance: index, latencySeconds: latency, status: status, now: DataPlaneHandler.policyNow())
    }

    /// Counts the call like a proxied request (metrics, access log), then answers the engine.
    private func finish(_ result: Result<StepResponse, StepCallFailure>, error: String? = nil) {
        timer?.cancel()
        timer = nil
        guard let complete else { return }
        self.complete = nil
        let now = NIODeadline.now()
        let elapsed = now - startedAt
        var status = 0
        switch result {
        case .success(let response): status = response.status
        case .failure(.refused(let refused, _, _)): status = refused
        case .failure: status = 502
        }
        if let traffic {
            traffic.metrics.requestFinished(method: request.method.description, status: status, nanoseconds: elapsed.nanoseconds)
            // The service's window counts what it answered (or failed to), not the gateway's
            // own refusals or a cancelled run.
            switch result {
            case .success, .failure(.unreachable), .failure(.failed):
                traffic.evidence.exchangeFinished(status: status, nanoseconds: elapsed.nanoseconds, at: now)
            case .failure(.refused), .failure(.cancelled):
                break
            }
        }
        environment.accessLog.record(
            requestID: requestID, method: HTTPMethod(rawValue: request.method.description), path: "/" + request.service.value + request.path,
            service: request.service.value, status: UInt(status), durationSeconds: Double(elapsed.nanoseconds) / 1e9,
            bytesIn: Int64(self.request.body?.utf8.count ?? 0), bytesOut: Int64(body.count), error: error, tenant: request.tenant?.value,
            subject: request.principal?.subject)
        complete(result)
    }
}
