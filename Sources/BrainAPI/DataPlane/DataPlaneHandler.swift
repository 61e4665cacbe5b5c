import BrainApplication
import BrainDomain
import BrainHTTP1
import BrainInfrastructure
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The data plane of one client connection.
///
/// Reads the socket's bytes itself (`RequestReader`: the gateway's own HTTP/1.1 parser) and
/// sees every request head first. Its decisions are pure values it drives —
/// `ServerConnectionStateMachine` (the connection), `ExchangeStateMachine` (each exchange),
/// `ConnectionDeadlines` (its timer) — and it performs their actions. Control-plane requests
/// (reserved first segments) pass on, as NIO parts, to Hummingbird further down the pipeline. Every `/{service}/…` request runs the
/// pipeline stages (request id → head validation → body limit → authentication → tenant →
/// route match → permission → rate limit → cache lookup → circuit breaker → load-balancer pick
/// → header rewrite → upstream call → cache store) and
/// is streamed to an upstream connection taken from this event loop's pool: no thread hop and
/// no Swift task per request. Backpressure: the client socket is read only while the upstream
/// can take writes, and the upstream socket only while the client can.
final class DataPlaneHandler: ChannelDuplexHandler, RemovableChannelHandler, UpstreamResponseReceiver, WebSocketUpgradeOwner {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Where the connection is: which plane has it, whether the next request can be read,
    /// when it closes.
    private var connection = ServerConnectionStateMachine<ProxyExchange, WebSocketUpgrade>()
    private var state: ServerConnectionStateMachine<ProxyExchange, WebSocketUpgrade>.State { connection.state }

    private let environment: DataPlaneEnvironment
    private var requestIdentifier = RequestIdentifier()
    private let headValidation = RequestHeadValidation()
    private let tenantResolution = TenantResolution()
    private let permission = Permission()
    private let routeResolution = RouteResolution()
    private let bodyLimit: BodyLimit
    private let upstreamHeaders = UpstreamRequestHeaders()
    private let responseHeaders = ResponseHeaders()

    private var context: ChannelHandlerContext?
    private var pool: UpstreamConnectionPool?
    private var proofOfOrigin: ProofOfOrigin?
    private var traffic: LoopTraffic?
    /// Accounting for every answered request (metrics, tally, spans, access log).
    private var recorder: ExchangeRecorder
    /// This connection's last verified token (see `Authentication.RememberedToken`).
    private var rememberedToken: Authentication.RememberedToken?
    private var clientAddress: String?
    /// The spans of the request being decided (tracing on), until an exchange takes them.
    private var pendingTrace: RequestTrace?

    private var clientReadsPaused = false
    private var clientReadPending = false
    private var clientNeedsFlush = false
    /// Parts were handed to the control plane since the last read-complete.
    private var controlPlaneReadPending = false
    /// The connection's bytes as requests; what it holds beyond the current request waits
    /// there (pipelining) until the current response is out.
    private var reader: RequestReader

    /// Idle keep-alive, request-head and upstream deadlines, watched by `timer`.
    private var deadlines: ConnectionDeadlines
    private var timer: Scheduled<Void>?
    /// The front-of-pipeline observer's context: relayed responses, and answers to requests
    /// that never finished their head, are written there as bytes, past NIO's response
    /// encoder (set and cleared by the observer).
    var frontContext: ChannelHandlerContext?
    /// A relayed response head not written yet: the first body part, when small, joins it in
    /// one buffer (one write, one iovec), otherwise it goes out at the end of the read burst.
    private var pendingHead: ByteBuffer?

    init(environment: DataPlaneEnvironment) {
        self.environment = environment
        self.bodyLimit = BodyLimit(maxBytes: environment.limits.maxBodyBytes)
        self.recorder = ExchangeRecorder(metrics: environment.metrics, accessLog: environment.accessLog, traffic: nil)
        self.deadlines = ConnectionDeadlines(
            idleTimeout: .seconds(Int64(environment.limits.idleTimeoutSeconds)),
            headTimeout: .seconds(Int64(environment.limits.headerTimeoutSeconds)))
        self.reader = RequestReader(limits: .init(maxHeadBytes: environment.limits.maxHeaderBytes, maxFields: environment.limits.maxHeaderCount))
    }

    // MARK: Connection lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.pool = environment.pools.pool(for: context.eventLoop)
        self.proofOfOrigin = environment.proofOfOrigin.cache(for: context.eventLoop)
        self.traffic = environment.traffic.traffic(for: context.eventLoop)
        self.recorder = ExchangeRecorder(metrics: environment.metrics, accessLog: environment.accessLog, traffic: traffic)
        if context.channel.isActive { connectionBecameActive(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        connectionBecameActive(context: context)
        context.fireChannelActive()
    }

    private func connectionBecameActive(context: ChannelHandlerContext) {
        guard clientAddress == nil else { return }
        clientAddress = context.channel.remoteAddress?.ipAddress
        becameIdle()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if case .proxying(let exchange) = state, exchange.progress.abandon() {
            // The client went away: cancel the upstream request by closing its connection.
            abandonUpstream(exchange)
            finish(exchange, error: "client disconnected")
        }
        if case .upgrading(let upgrade, let exchange) = state {
            upgrade.cancel()
            finish(exchange, error: "client disconnected")
        }
        connection.closing()
        context.fireChannelInactive()
    }

    // MARK: Inbound (client → gateway)

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // The request-head deadline starts with the first byte of a head (slowloris).
        apply(deadlines.bytesArrived(now: .now()))
        reader.read(unwrapInboundIn(data))
        readRequests(context: context)
    }

    /// Hands the reader's events on while the connection can take them. HTTP pipelining: a
    /// request that arrives while the previous response is still going out stays in the reader,
    /// and the socket is not read meanwhile. (NIO's HTTPServerPipelineHandler would do this
    /// too, but it stops reading after every request, costing two epoll_ctl calls per request
    /// even when nothing is pipelined.)
    private func readRequests(context: ChannelHandlerContext) {
        while acceptsParts, let event = reader.next() {
            handle(event, context: context)
        }
        if !acceptsParts, reader.hasBufferedBytes { pauseClientReads() }
    }

    /// Whether the next request part can be handled now (rather than left in the reader behind a response).
    private var acceptsParts: Bool { connection.acceptsParts }

    /// Reads what the reader holds once the connection is free again. Runs as its own
    /// event-loop task so a new request never starts inside the previous response's write.
    private func schedulePipelineDrain() {
        guard let context else { return }
        context.eventLoop.assumeIsolated().execute {
            guard let context = self.context else { return }
            self.readRequests(context: context)
            // Close the synthetic read burst: Hummingbird's async channel hands parts on at
            // read-complete, and upstream writes are flushed there.
            self.channelReadComplete(context: context)
            self.resumeClientReads()
        }
    }

    private func handle(_ event: RequestReader.Event, context: ChannelHandlerContext) {
        if case .refused(let refusal) = event {
            refuse(refusal)
            return
        }
        switch state {
        case .idle:
            guard case .head(let head) = event else { return }
            deadlines.requestStarted()
            let plane = PlaneSelector.plane(forURI: head.uri)
            switch connection.requestHead(plane: plane, asksForUpgrade: UpgradeRequest.asksForUpgrade(head), isHead: head.method == .HEAD) {
            case .passToControlPlane:
                controlPlaneReadPending = true
                context.fireChannelRead(wrapInboundOut(.head(head.nioHead())))
            case .runStages:
                startProxying(head, context: context)
            case .close:
                closeClient()
            }
        case .controlPlane:
            controlPlaneReadPending = true
            switch event {
            case .head(let head): context.fireChannelRead(wrapInboundOut(.head(head.nioHead())))
            case .body(let buffer): context.fireChannelRead(wrapInboundOut(.body(buffer)))
            case .end, .refused: context.fireChannelRead(wrapInboundOut(.end(nil)))
            }
            if case .end = event {
                // Hummingbird may have answered before reading the whole request.
                perform(connection.requestEnded())
            }
        case .controlPlaneResponding, .awaitingStage:
            // Not reached: events wait in the reader while a response is pending.
            break
        case .proxying(let exchange):
            switch event {
            case .head, .refused:
                // A head before the request's end cannot come from the reader.
                closeClient()
            case .body(let buffer):
                receiveBody(buffer, exchange: exchange)
            case .end:
                if exchange.progress.requestEnd() == .writeEnd, let connection = exchange.connection {
                    connection.writeEnd()
                    exchange.upstreamNeedsFlush = false
                }
            }
        case .answered:
            if case .end = event { perform(connection.requestEnded()) }
        case .closing, .upgrading, .tunnel:
            // An upgrade request's end (and nothing after it: the reader stops at an upgrade).
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .proxying(let exchange) = state, exchange.upstreamNeedsFlush, let connection = exchange.connection {
            exchange.upstreamNeedsFlush = false
            connection.flush()
        }
        // Only the control plane (Hummingbird's async channel) needs read-complete, and only
        // after it was handed parts: proxied traffic skips the rest of the pipeline entirely.
        if controlPlaneReadPending {
            controlPlaneReadPending = false
            context.fireChannelReadComplete()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .controlPlane = state {
            context.fireErrorCaught(error)
            return
        }
        closeClient()
    }

    /// Malformed request (or oversized head): answered when nothing else is being written, and
    /// the connection closes — nothing after it can be trusted to be where it seems.
    private func refuse(_ refusal: HeadRefusal) {
        let error: GatewayError = switch refusal {
        case .tooLarge: .headersTooLarge
        case .malformed: .badRequest("malformed HTTP request")
        case .unsupportedVersion:
            GatewayError(status: .httpVersionNotSupported, code: "http_version_not_supported", detail: "only HTTP/1.0 and HTTP/1.1 are served here")
        }
        switch state {
        case .idle:
            writeError(error, requestID: requestIdentifier.generate(), keepAlive: false, version: .http1_1)
        case .proxying(let exchange) where !exchange.progress.responseStarted:
            abandonUpstream(exchange)
            respond(with: error, to: exchange)
        default:
            closeClient()
        }
        connection.closing()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .proxying(let exchange) = state {
            exchange.connection?.resumeReading()
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Outbound (Hummingbird's control-plane responses pass through)

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        if case .body = part, connection.controlPlaneIsHead {
            promise?.succeed(())
            return
        }
        if case .head(let head) = part, head.status == .switchingProtocols, connection.controlPlaneAskedForUpgrade {
            // `/ws/events` accepted the handshake: what the client sends from now on are frames.
            do {
                for handler in EventSocketFrames.handlers().reversed() {
                    try context.pipeline.syncOperations.addHandler(handler, position: .first)
                }
            } catch {
                closeClient()
            }
        }
        if case .end = part {
            let next = connection.controlPlaneResponseEnded()
            if next == .closeAfterResponse {
                let written = promise ?? context.eventLoop.makePromise()
                context.write(data, promise: written)
                written.futureResult.assumeIsolated().whenComplete { _ in self.closeClient() }
                return
            }
            context.write(data, promise: promise)
            perform(next)
            return
        }
        context.write(data, promise: promise)
    }

    /// What the connection decided once a request or a response ended.
    private func perform(_ next: ServerConnectionStateMachine<ProxyExchange, WebSocketUpgrade>.NextRequestAction) {
        switch next {
        case .none:
            break
        case .readNext:
            becameIdle()
            schedulePipelineDrain()
        case .closeAfterResponse:
            closeClient()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Graceful shutdown reaches here after ConnectionLifecycleObserver saw it; it is not
        // passed on (the control plane needs no separate notice: this handler closes for it).
        if event is ChannelShouldQuiesceEvent {
            if connection.isIdle, !reader.hasBufferedBytes, connection.controlResponsesPending == 0 { closeClient() }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        if case .tunnel = state {
            // The relay at the front of the pipeline paces reads now.
            context.read()
        } else if clientReadsPaused {
            clientReadPending = true
        } else {
            context.read()
        }
    }

    private func pauseClientReads() { clientReadsPaused = true }

    private func resumeClientReads() {
        guard clientReadsPaused, acceptsParts || !reader.hasBufferedBytes else { return }
        clientReadsPaused = false
        if clientReadPending, let context {
            clientReadPending = false
            context.read()
        }
    }

    // MARK: Pipeline

    private func startProxying(_ head: RequestHead, context: ChannelHandlerContext) {
        let requestID = requestIdentifier.identify(head.headers)
        let asksForUpgrade = UpgradeRequest.asksForUpgrade(head)
        let keepAlive = head.isKeepAlive && connection.mayKeepAlive && !asksForUpgrade
        pendingTrace = environment.tracing.start(head)
        if let error = headValidation.check(head) ?? bodyLimit.check(head.headers) {
            connection.closing()
            writeError(error, requestID: requestID, keepAlive: false, version: head.version)
            logRejected(head, requestID: requestID, error: error)
            return
        }
        // Authentication → tenant context.
        let outcome = environment.authentication.authenticate(head, now: Date().timeIntervalSince1970, remembered: &rememberedToken)
        if case .needsIntrospection(let token) = outcome {
            // An opaque token not seen lately: the auth service is asked without blocking this loop.
            let authentication = environment.authentication
            let authorization = head.headers.first(name: "authorization") ?? ""
            awaitStage({ done in
                authentication.introspect(token, authorization: authorization, now: Date().timeIntervalSince1970, on: context.eventLoop) {
                    done(($0, $1))
                }
            }) { handler, answer, context in
                if let remembered = answer.1 { handler.rememberedToken = remembered }
                handler.proxy(head, requestID: requestID, keepAlive: keepAlive, asksForUpgrade: asksForUpgrade, authenticated: answer.0, context: context)
            }
            return
        }
        proxy(head, requestID: requestID, keepAlive: keepAlive, asksForUpgrade: asksForUpgrade, authenticated: outcome, context: context)
    }

    /// Parks the request while a stage waits for an answer from off the loop (the auth
    /// service; a shared store): nothing more is read from the client — what it sends waits
    /// in the reader — until `start` calls back on this event loop; then `resume` runs the
    /// rest of the stages, unless the connection closed meanwhile.
    private func awaitStage<Answer>(
        _ start: (_ done: @escaping (Answer) -> Void) -> Void,
        then resume: @escaping (DataPlaneHandler, Answer, ChannelHandlerContext) -> Void
    ) {
        connection.stageSuspended()
        pauseClientReads()
        start { answer in
            guard let context = self.context, self.connection.stageResumed() else { return }
            resume(self, answer, context)
            self.schedulePipelineDrain()
            self.resumeClientReads()
        }
    }

    /// The stages after authentication.
    private func proxy(
        _ head: RequestHead, requestID: String, keepAlive: Bool, asksForUpgrade: Bool, authenticated outcome: Authentication.Outcome,
        context: ChannelHandlerContext
    ) {
        let trace = pendingTrace
        var principal: Principal?
        var tenant: TenantID?
        switch outcome {
        case .authenticated(let verified):
            principal = verified
            trace?.stage("authentication")
            switch tenantResolution.resolve(verified, headers: head.headers) {
            case .success(let t):
                tenant = t
                trace?.stage("tenant")
            case .failure(let error):
                rejectBeforeBody(head, requestID: requestID, keepAlive: keepAlive, error: error)
                return
            }
        case .publicPath:
            break
        case .rejected(let error, let challenge):
            rejectBeforeBody(head, requestID: requestID, keepAlive: keepAlive, error: error, extraHeaders: challenge.map { [("WWW-Authenticate", $0)] } ?? [])
            return
        case .needsIntrospection:
            rejectBeforeBody(head, requestID: requestID, keepAlive: keepAlive, error: .authUnavailable)
            return
        }
        // Route match → permission.
        let method = HttpMethod(head.method.rawValue)
        let resolved: RouteResolution.Resolved
        let directory = environment.registry.directory
        switch routeResolution.resolve(uri: head.uri, method: method, tenant: tenant, in: directory) {
        case .success(let r):
            resolved = r
            trace?.stage("route")
            trace?.routed(service: r.entry.service.name.value, method: head.method.rawValue)
            if let principal, let error = permission.check(principal, service: r.entry.service, route: r.route) {
                rejectBeforeBody(head, requestID: requestID, keepAlive: keepAlive, error: error, service: r.entry.service.name.value)
                return
            }
            trace?.stage("permission")
        case .failure(let error):
            rejectBeforeBody(head, requestID: requestID, keepAlive: keepAlive, error: error)
            return
        }
        // The route is read through its directory entry at each use: a local copy would
        // retain every one of its fields.
        let entry = resolved.entry
        let now = Self.policyNow()
        // Rate limit: decided here, or by Redis when replicas share their limits.
        switch environment.rateLimiting.check(service: entry.service, tenant: tenant, now: now, on: context.eventLoop) {
        case .decided(let verdict):
            admit(head, requestID: requestID, keepAlive: keepAlive, asksForUpgrade: asksForUpgrade, resolved: resolved,
                  tenant: tenant, principal: principal, verdict: verdict, now: now, context: context)
        case .pending(let decision):
            awaitStage({ done in decision.assumeIsolated().whenComplete(done) }) { handler, result, context in
                // The shared limiter answers every failure with a local verdict: this is a backstop.
                let verdict = (try? result.get()) ?? RateLimiting.Verdict(allowed: true, limit: 0, remaining: 0, resetSeconds: 1, retryAfterSeconds: 1)
                handler.admit(head, requestID: requestID, keepAlive: keepAlive, asksForUpgrade: asksForUpgrade, resolved: resolved,
                              tenant: tenant, principal: principal, verdict: verdict, now: now, context: context)
            }
        }
    }

    /// The stages after the rate limit's verdict.
    private func admit(
        _ head: RequestHead, requestID: String, keepAlive: Bool, asksForUpgrade: Bool, resolved: RouteResolution.Resolved,
        tenant: TenantID?, principal: Principal?, verdict: RateLimiting.Verdict, now: Double, context: ChannelHandlerContext,
        sharedCacheAsked: Bool = false
    ) {
        let trace = pendingTrace
        let entry = resolved.entry
        let directory = environment.registry.directory
        trace?.stage("rate_limit")
        guard verdict.allowed else {
            environment.counters.requestRateLimited()
            traffic?.metrics.handles(for: entry.service.name.value).rateLimited.increment()
            rejectBeforeBody(head, requestID: requestID, keepAlive: keepAlive, error: .rateLimited, extraHeaders: verdict.headers, service: entry.service.name.value)
            return
        }
        if asksForUpgrade, UpgradeRequest.isWebSocket(head) {
            startWebSocket(head, requestID: requestID, resolved: resolved, tenant: tenant, principal: principal, verdict: verdict, context: context)
            return
        }
        guard let loopTraffic = traffic else {
            rejectBeforeBody(head, requestID: requestID, keepAlive: keepAlive, error: .noInstance)
            return
        }
        let serviceTraffic = loopTraffic.traffic(for: resolved.entry, in: directory)
        // Cache lookup.
        let lookup = environment.caching.lookup(head, service: entry.service, tenant: tenant, now: now)
        if !sharedCacheAsked, case .miss(let key) = lookup,
            let fetched = environment.caching.fetchShared(key, request: head.headers, now: now, on: context.eventLoop)
        {
            // Another replica may have stored it: asked once, then the lookup runs again.
            awaitStage({ done in fetched.assumeIsolated().whenComplete { _ in done(()) } }) { handler, _, context in
                handler.admit(head, requestID: requestID, keepAlive: keepAlive, asksForUpgrade: asksForUpgrade, resolved: resolved,
                              tenant: tenant, principal: principal, verdict: verdict, now: now, context: context, sharedCacheAsked: true)
            }
            return
        }
        switch lookup {
        case .hit: serviceTraffic.metrics.cacheLookup(hit: true)
        case .miss, .revalidate: serviceTraffic.metrics.cacheLookup(hit: false)
        case .bypass: break
        }
        if case .bypass = lookup {} else { trace?.stage("cache_lookup") }
        if case .hit(_, let stored) = lookup {
            environment.counters.cacheHit()
            serveStored(stored, head: head, requestID: requestID, keepAlive: keepAlive, verdict: verdict, now: now, service: entry.service, tenant: tenant)
            return
        }
        environment.caching.invalidate(after: head.method, target: head.uri, service: entry.service.name, tenant: tenant)
        serviceTraffic.retryBudget.recordRequest(now: now)
        let exchange = ProxyExchange(
            clientHead: head, requestID: requestID, entry: resolved.entry, upstreamURI: resolved.upstreamURI,
            keepAlive: keepAlive, rules: exchangeRules(head, service: resolved.entry.service), startedAt: .now(), tenant: tenant, principal: principal, traffic: serviceTraffic, rateLimit: verdict)
        recorder.exchangeStarted()
        adoptTrace(exchange, random: &loopTraffic.random)
        switch lookup {
        case .miss(let key):
            exchange.cacheKey = key
        case .revalidate(let key, let stored):
            exchange.cacheKey = key
            exchange.revalidating = stored
        case .hit, .bypass:
            break
        }
        connection.exchangeStarted(exchange)
        if head.expectsContinue {
            // The gateway answers `Expect` itself (it is stripped upstream) so the client sends its body.
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
        }
        // The connection's one timer watches the deadline: no task scheduled per request.
        apply(deadlines.awaitUpstream(until: exchange.startedAt + .milliseconds(Int64(resolved.entry.service.timeoutMilliseconds))))
        attemptUpstream(exchange, retry: false)
    }

    /// WebSocket handshake: past the rate limit, the upgrade goes to one instance on a connection of
    /// its own; the cache is not consulted and nothing is retried.
    private func startWebSocket(
        _ head: RequestHead, requestID: String, resolved: RouteResolution.Resolved, tenant: TenantID?, principal: Principal?,
        verdict: RateLimiting.Verdict, context: ChannelHandlerContext
    ) {
        guard let pool, let loopTraffic = traffic else {
            rejectBeforeBody(head, requestID: requestID, keepAlive: false, error: .noInstance)
            return
        }
        let serviceTraffic = loopTraffic.traffic(for: resolved.entry, in: environment.registry.directory)
        let exchange = ProxyExchange(
            clientHead: head, requestID: requestID, entry: resolved.entry, upstreamURI: resolved.upstreamURI,
            keepAlive: false, rules: exchangeRules(head, service: resolved.entry.service), requestEnded: true, startedAt: .now(),
            tenant: tenant, principal: principal, traffic: serviceTraffic, rateLimit: verdict)
        recorder.exchangeStarted()
        adoptTrace(exchange, random: &loopTraffic.random)
        let upgrade = WebSocketUpgrade(exchange: exchange, context: context, owner: self)
        connection.upgradeStarted(upgrade, exchange)
        // Nothing is read from the client until the upstream has answered.
        pauseClientReads()
        let headers = upstreamHeaders
        let proof = proofOfOrigin?.token(
            service: exchange.service.name.value, principal: principal, tenant: tenant, now: Date().timeIntervalSince1970)
        let clientAddress = self.clientAddress
        upgrade.start(pool: pool, random: &loopTraffic.random, timeout: .milliseconds(Int64(exchange.service.timeoutMilliseconds))) { instance in
            let traceparent = exchange.tracing?.startUpstream(instance: instance.description, attempt: 1) ?? exchange.trace?.traceparent
            var upstream = headers.build(
                from: head, uri: exchange.upstreamURI, instance: instance, requestID: requestID, clientAddress: clientAddress,
                tenant: tenant, proofToken: proof, traceparent: traceparent)
            upstream.headers.add(name: "Connection", value: "Upgrade")
            upstream.headers.add(name: "Upgrade", value: head.headers.first(name: "upgrade") ?? "websocket")
            return upstream
        }
    }

    private func exchangeRules(_ head: RequestHead, service: ServiceRoute) -> ExchangeStateMachine.Rules {
        .init(
            retryPolicy: environment.retryPolicy, maxRetries: service.retry.retries,
            retryableRequest: environment.retryPolicy.isRetryable(method: head.method, headers: head.headers),
            bodyLimit: bodyLimit)
    }

    /// Hands the request's spans to its exchange; without tracing, a `traceparent` of its own.
    private func adoptTrace(_ exchange: ProxyExchange, random: inout SplitMix64) {
        if let trace = pendingTrace {
            exchange.tracing = trace
            pendingTrace = nil
        } else {
            exchange.trace = TraceContext.start(from: exchange.clientHead.headers, using: &random)
        }
    }

    /// The traffic policies' clock: monotonic seconds.
    @inline(__always)
    static func policyNow() -> Double { Double(NIODeadline.now().uptimeNanoseconds) / 1e9 }

    /// Answers a GET/HEAD from the cache, like a refusal: nothing goes upstream.
    private func serveStored(
        _ stored: ResponseCache.StoredResponse, head: RequestHead, requestID: String, keepAlive: Bool,
        verdict: RateLimiting.Verdict, now: Double, service: ServiceRoute, tenant: TenantID?
    ) {
        guard let context else { return }
        let keep = keepAlive && !head.hasBody
        let responseHead = ResponseCaching.hitHead(
            stored, version: head.version, requestID: requestID, keepAlive: keep, now: now, isHead: head.method == .HEAD,
            extra: verdict.headers)
        connection.answeredBeforeBody(keepAlive: keep)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(stored.body))), promise: nil) }
        let promise = keep ? nil : context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
        promise?.futureResult.assumeIsolated().whenComplete { _ in self.closeClient() }
        recorder.servedFromCache(head, requestID: requestID, stored: stored, service: service.name.value, tenant: tenant, trace: pendingTrace)
        pendingTrace = nil
    }

    /// Answers a request refused by a stage before any of its body was read. Its body (if any)
    /// is not worth reading: the connection closes after the answer in that case.
    private func rejectBeforeBody(
        _ head: RequestHead, requestID: String, keepAlive: Bool, error: GatewayError, extraHeaders: [(String, String)] = [],
        service: String? = nil
    ) {
        connection.answeredBeforeBody(keepAlive: keepAlive && !head.hasBody)
        writeError(error, requestID: requestID, keepAlive: keepAlive && !head.hasBody, version: head.version, extraHeaders: extraHeaders)
        logRejected(head, requestID: requestID, error: error, service: service)
    }

    private func attemptUpstream(_ exchange: ProxyExchange, retry: Bool) {
        guard let pool, let loopTraffic = traffic else {
            respond(with: .noInstance, to: exchange)
            return
        }
        // Circuit breaker → load-balancer pick.
        let now = Self.policyNow()
        let choice = exchange.traffic.choose(now: now, excluding: retry ? exchange.instanceIndex : nil, random: &loopTraffic.random)
        guard case .instance(let index, _) = choice else {
            if case .noneAdmitted(let after) = choice {
                respond(with: .circuitOpen, to: exchange, extraHeaders: [("Retry-After", String(RateLimiting.wholeSecondsUp(after)))])
            }
            return
        }
        let attempt = exchange.progress.beginAttempt()
        let instance = exchange.service.instances[index]
        if let tracing = exchange.tracing {
            tracing.stage("instance_selection")
            exchange.upstreamTraceparent = tracing.startUpstream(instance: instance.description, attempt: attempt)
        }
        exchange.instance = instance
        exchange.instanceIndex = index
        exchange.outcomeRecorded = false
        exchange.attemptStartedAt = .now()
        exchange.traffic.balancer.requestStarted(index)
        switch pool.acquire(instance) {
        case .ready(let connection):
            connected(connection, attempt: attempt, exchange: exchange)
        case .connecting(let future):
            pauseClientReads()
            future.assumeIsolated().whenComplete { [weak exchange] result in
                guard let exchange else {
                    if case .success(let connection) = result { pool.release(connection, reusable: true) }
                    return
                }
                switch result {
                case .success(let connection):
                    self.connected(connection, attempt: attempt, exchange: exchange)
                case .failure(let error):
                    self.attemptFailed(exchange, attempt: attempt, failure: .connectFailed(error))
                }
            }
        }
    }

    /// `attempt` has a connection: the request goes out on it, unless the attempt was
    /// abandoned meanwhile (the fresh connection then serves someone else).
    private func connected(_ connection: UpstreamConnection, attempt: Int, exchange: ProxyExchange) {
        switch exchange.progress.connected(attempt: attempt) {
        case .releaseUnused:
            pool?.release(connection, reusable: true)
        case .writeRequest(let replay, let end):
            attach(connection, attempt: attempt, to: exchange, replay: replay, end: end)
        }
    }

    private func attach(_ connection: UpstreamConnection, attempt: Int, to exchange: ProxyExchange, replay: Bool, end: Bool) {
        guard let instance = exchange.instance else { return }
        exchange.connection = connection
        exchange.connectionAttempt = attempt
        connection.receiver = self
        var validators: [(String, String)] = []
        if let stored = exchange.revalidating, let fields = ResponseCaching.validators(of: stored, request: exchange.clientHead.headers) {
            validators = fields
            exchange.validatorsSent = true
        }
        // Room for a usual head (bearer token and proof token are ~0.5 KiB each): no regrowth.
        var bytes = connection.channel?.allocator.buffer(capacity: 2048) ?? ByteBuffer()
        let chunked = upstreamHeaders.write(
            from: exchange.clientHead, uri: exchange.upstreamURI, instance: instance,
            requestID: exchange.requestID, clientAddress: clientAddress, tenant: exchange.tenant,
            proofToken: proofOfOrigin?.token(
                service: exchange.service.name.value, principal: exchange.principal, tenant: exchange.tenant,
                now: Date().timeIntervalSince1970),
            traceparent: exchange.upstreamTraceparent ?? exchange.trace?.traceparent, extra: validators, into: &bytes)
        connection.writeHead(bytes, method: exchange.clientHead.method, chunked: chunked)
        exchange.requestWrittenAt = .now()
        if replay {
            for part in exchange.sent { connection.writeBody(part) }
        }
        for part in exchange.pending {
            connection.writeBody(part)
            if exchange.progress.bodyReplayable { exchange.sent.append(part) }
        }
        exchange.pending.removeAll()
        if !exchange.progress.bodyReplayable { exchange.sent.removeAll() }
        if end {
            connection.writeEnd()
        } else {
            connection.flush()
        }
        if connection.isWritable { resumeClientReads() } else { pauseClientReads() }
    }

    private func receiveBody(_ buffer: ByteBuffer, exchange: ProxyExchange) {
        switch exchange.progress.requestBody(bytes: buffer.readableBytes, replayLimit: environment.retryPolicy.replayableBodyBytes) {
        case .discard:
            return
        case .rejectTooLarge:
            abandonUpstream(exchange)
            respond(with: .bodyTooLarge(limit: bodyLimit.maxBytes), to: exchange)
        case .cutShort:
            abandonUpstream(exchange)
            finish(exchange, error: "request body over limit")
            closeClient()
        case .write:
            guard let connection = exchange.connection else { return }
            connection.writeBody(buffer)
            exchange.upstreamNeedsFlush = true
            if exchange.progress.bodyReplayable {
                exchange.sent.append(buffer)
            } else if !exchange.sent.isEmpty {
                exchange.sent.removeAll()
            }
        case .hold:
            exchange.pending.append(buffer)
        }
    }

    // MARK: UpstreamResponseReceiver (upstream → client)

    func upstreamResponseHead(_ head: UpstreamResponseHead) {
        guard case .proxying(let exchange) = state else { return }
        let action = exchange.progress.responseHead(
            attempt: exchange.connectionAttempt, status: head.status.code, validatorsSent: exchange.validatorsSent)
        guard action != .ignore else { return }
        deadlines.upstreamSettled()
        let status = Int(head.status.code)
        let now = NIODeadline.now()
        let waited = (now - exchange.attemptStartedAt).nanoseconds
        let latency = Double((now - exchange.requestWrittenAt).nanoseconds) / 1e9
        exchange.traffic.metrics.upstream.recordNanoseconds(waited)
        recordOutcome(exchange, exchange.service.circuitBreaker.isFailure(status: status) ? .failure : .success, latencySeconds: latency, status: status)
        if action == .serveStored, let stored = exchange.revalidating, let key = exchange.cacheKey {
            // The upstream confirmed the stored response: serve it, fresh again.
            let now = Self.policyNow()
            environment.caching.confirmed(stored, key: key, request: exchange.clientHead.headers, now: now)
            environment.counters.cacheHit()
            exchange.servingStored = true
            exchange.status = stored.status.code
            let hit = ResponseCaching.hitHead(
                stored, version: exchange.clientHead.version, requestID: exchange.requestID, keepAlive: exchange.keepAlive, now: now,
                isHead: exchange.clientHead.method == .HEAD, extra: exchange.rateLimit.headers)
            context?.write(wrapOutboundOut(.head(hit)), promise: nil)
            if exchange.clientHead.method != .HEAD {
                exchange.bytesOut += Int64(stored.body.readableBytes)
                context?.write(wrapOutboundOut(.body(.byteBuffer(stored.body))), promise: nil)
            }
            clientNeedsFlush = true
            return
        }
        exchange.status = head.status.code
        var cacheStatus: String?
        if let key = exchange.cacheKey {
            cacheStatus = "MISS"
            let responseHeaders = self.responseHeaders
            exchange.cacheFill = environment.caching.startFill(key: key, upstream: head, policy: exchange.service.cache) {
                responseHeaders.build(
                    from: head, clientVersion: exchange.clientHead.version, requestID: exchange.requestID, keepAlive: exchange.keepAlive,
                    rateLimit: exchange.rateLimit, cacheStatus: cacheStatus)
            }
        }
        guard let front = frontContext else { return }
        // Room for a usual head and a small body joining it (see `writeBody`).
        var bytes = front.channel.allocator.buffer(capacity: 1024)
        let framing = responseHeaders.write(
            from: head, clientVersion: exchange.clientHead.version, requestID: exchange.requestID, keepAlive: exchange.keepAlive,
            isHeadRequest: exchange.clientHead.method == .HEAD, rateLimit: exchange.rateLimit, cacheStatus: cacheStatus, into: &bytes)
        exchange.framing = framing
        if framing == .untilClose { exchange.keepAlive = false }
        pendingHead = bytes
        clientNeedsFlush = true
    }

    func upstreamResponseBody(_ body: ByteBuffer) {
        guard case .proxying(let exchange) = state, exchange.progress.relays(attempt: exchange.connectionAttempt), !exchange.servingStored,
            let context
        else { return }
        exchange.bytesOut += Int64(body.readableBytes)
        if exchange.cacheFill?.append(body) == false { exchange.cacheFill = nil }
        writeBody(body, exchange: exchange, context: context)
        clientNeedsFlush = true
        if !context.channel.isWritable {
            // Pause before flushing: the flush may make the channel writable again at once,
            // and that event must find the upstream already paused to resume it.
            exchange.connection?.pauseReading()
            context.flush()
            clientNeedsFlush = false
            if context.channel.isWritable { exchange.connection?.resumeReading() }
        }
    }

    /// Relays a body part in the framing its head announced.
    private func writeBody(_ body: ByteBuffer, exchange: ProxyExchange, context: ChannelHandlerContext) {
        guard let framing = exchange.framing else {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            return
        }
        // A body-less response's head waits for the end of the read burst or of the response.
        guard framing != .none, let front = frontContext else { return }
        if var head = pendingHead {
            pendingHead = nil
            guard body.readableBytes > Self.joinedBodyBytes else {
                if framing == .chunked { ChunkedFraming.append(body, to: &head) } else { head.writeImmutableBuffer(body) }
                front.write(NIOAny(head), promise: nil)
                return
            }
            front.write(NIOAny(head), promise: nil)
        }
        if framing == .chunked { ChunkedFraming.write(body, at: front) } else { front.write(NIOAny(body), promise: nil) }
    }

    /// Body parts up to this size are copied behind a pending head rather than written apart.
    private static let joinedBodyBytes = 4096

    /// Writes the relayed head still held back, if any.
    private func writePendingHead() {
        guard let head = pendingHead else { return }
        pendingHead = nil
        frontContext?.write(NIOAny(head), promise: nil)
    }

    /// Ends the response: NIO's encoder ends the gateway's own heads; a relayed one gets its
    /// last chunk (chunked) or just a flush.
    private func writeEnd(_ exchange: ProxyExchange, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard let framing = exchange.framing, let front = frontContext else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
            return
        }
        writePendingHead()
        if framing == .chunked {
            front.writeAndFlush(NIOAny(ChunkedFraming.lastChunk), promise: promise)
        } else if let promise {
            // An empty write carries the promise in order behind the body.
            front.writeAndFlush(NIOAny(front.channel.allocator.buffer(capacity: 0)), promise: promise)
        } else {
            front.flush()
        }
    }

    func upstreamReadComplete() {
        writePendingHead()
        if clientNeedsFlush {
            clientNeedsFlush = false
            context?.flush()
        }
    }

    func upstreamResponseEnd() {
        guard case .proxying(let exchange) = state, let context else { return }
        guard case .complete(let reusable, let closeClient) = exchange.progress.responseEnd(attempt: exchange.connectionAttempt) else { return }
        exchange.tracing?.upstreamFinished(status: Int(exchange.status), error: nil)
        if let connection = exchange.connection {
            exchange.connection = nil
            pool?.release(connection, reusable: reusable)
        }
        clientNeedsFlush = false
        if !closeClient {
            storeInCache(exchange, allocator: context.channel.allocator)
            // completeExchange sets the state before it writes `.end`, and only then lets a
            // pipelined request waiting in the reader start.
            completeExchange(exchange)
        } else {
            // The upstream answered before the whole request body arrived: the rest of the body
            // is not worth reading; close once the response is out.
            finish(exchange, error: nil)
            connection.closing()
            let promise = context.eventLoop.makePromise(of: Void.self)
            writeEnd(exchange, context: context, promise: promise)
            promise.futureResult.assumeIsolated().whenComplete { _ in self.closeClient() }
        }
    }

    func upstreamFailed(_ failure: UpstreamFailure) {
        guard case .proxying(let exchange) = state else { return }
        exchange.connection = nil
        attemptFailed(exchange, attempt: exchange.connectionAttempt, failure: failure)
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if isWritable { resumeClientReads() } else { pauseClientReads() }
    }

    // MARK: WebSocketUpgradeOwner

    func upgradeFailed(_ exchange: ProxyExchange, error: GatewayError, extraHeaders: [(String, String)], logError: String?) {
        guard case .upgrading(_, let current) = state, current === exchange else { return }
        if logError != nil, let instance = exchange.instance {
            environment.health.recordRequestFailure(service: exchange.service, instance: instance, error: logError ?? error.code)
        }
        respond(with: error, to: exchange, logError: logError, extraHeaders: extraHeaders)
    }

    func upgradeFinished(_ exchange: ProxyExchange, tunnel: Bool) {
        guard case .upgrading(_, let current) = state, current === exchange else { return }
        finish(exchange, error: nil)
        if tunnel {
            connection.becameTunnel()
            if deadlines.stopAll() { timer?.cancel() }
            timer = nil
            clientReadsPaused = false
            if clientReadPending, let context {
                clientReadPending = false
                context.read()
            }
        } else {
            connection.closing()
        }
    }

    func tunnelClosed(_ exchange: ProxyExchange, bytesFromClient: Int64, bytesFromUpstream: Int64) {
        let lasted = Double((NIODeadline.now() - exchange.startedAt).nanoseconds) / 1e9
        environment.accessLog.recordTunnelClosed(
            requestID: exchange.requestID, service: exchange.service.name.value, durationSeconds: lasted,
            bytesFromClient: bytesFromClient, bytesFromUpstream: bytesFromUpstream)
    }

    // MARK: Failures

    private func attemptFailed(_ exchange: ProxyExchange, attempt: Int, failure: UpstreamFailure) {
        let action = exchange.progress.upstreamFailed(attempt: attempt, failure)
        guard action != .ignore else { return }
        exchange.tracing?.upstreamFinished(status: nil, error: failure.description)
        if let instance = exchange.instance {
            environment.health.recordRequestFailure(service: exchange.service, instance: instance, error: failure.description)
        }
        if exchange.outcomeRecorded, let index = exchange.instanceIndex {
            // The response had started (and counted as a success): the cut still counts against the instance.
            exchange.traffic.breakers.record(.failure, instance: index, now: Self.policyNow())
        } else {
            recordOutcome(exchange, .failure, latencySeconds: nil)
        }
        switch action {
        case .ignore:
            return
        case .cutShort:
            // Part of the response is already with the client: all we can do is cut it short.
            finish(exchange, error: failure.description)
            closeClient()
        case .respond(let failure):
            respond(with: .upstream(failure), to: exchange, logError: failure.description)
        case .retry(let attempt):
            guard exchange.traffic.retryBudget.withdrawRetry(now: Self.policyNow()), let context, let loopTraffic = traffic else {
                environment.counters.retryRefused()
                environment.logger.debug("retry refused by the retry budget", metadata: ["request_id": .string(exchange.requestID)])
                if case .respond(let failure) = exchange.progress.retryRefused(after: attempt, failure) {
                    respond(with: .upstream(failure), to: exchange, logError: failure.description)
                }
                return
            }
            environment.counters.retrySent()
            let delay = environment.retryPolicy.backoff(retry: attempt, settings: exchange.service.retry, using: &loopTraffic.random)
            environment.logger.debug("retrying upstream request", metadata: [
                "request_id": .string(exchange.requestID), "error": .string(failure.description), "backoff_us": .stringConvertible(delay.nanoseconds / 1000),
            ])
            // Nothing more is read from the client until the retry has a connection.
            pauseClientReads()
            exchange.backoff = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [weak self, weak exchange] in
                guard let self, let exchange, exchange.progress.backoffElapsed(after: attempt) else { return }
                exchange.backoff = nil
                self.attemptUpstream(exchange, retry: true)
            }
        }
    }

    private func upstreamTimedOut(_ exchange: ProxyExchange) {
        guard case .proxying(let current) = state, current === exchange else { return }
        guard case .respond(let failure) = exchange.progress.deadlinePassed(timeoutMilliseconds: exchange.service.timeoutMilliseconds) else { return }
        deadlines.upstreamSettled()
        abandonUpstream(exchange)
        exchange.tracing?.upstreamFinished(status: nil, error: failure.description)
        if !exchange.outcomeRecorded {
            // An attempt was under way (not a backoff, whose failure was already counted).
            if let instance = exchange.instance {
                environment.health.recordRequestFailure(service: exchange.service, instance: instance, error: failure.description)
            }
            recordOutcome(exchange, .failure, latencySeconds: nil)
        }
        respond(with: .upstream(failure), to: exchange, logError: failure.description)
    }

    /// Detaches and closes the exchange's upstream connection: it is mid-request and cannot be reused.
    private func abandonUpstream(_ exchange: ProxyExchange) {
        deadlines.upstreamSettled()
        exchange.backoff?.cancel()
        exchange.backoff = nil
        if let connection = exchange.connection {
            exchange.connection = nil
            connection.receiver = nil
            connection.close()
        }
    }

    // MARK: Responses the gateway writes itself

    private func respond(with error: GatewayError, to exchange: ProxyExchange, logError: String? = nil, extraHeaders: [(String, String)] = []) {
        exchange.status = error.status.code
        let keepAlive = exchange.progress.gatewayAnswered() && exchange.keepAlive && connection.mayKeepAlive
        finish(exchange, error: logError ?? error.code)
        // State before the write: its `.end` may deliver a pipelined request synchronously.
        let next = connection.exchangeFinished(keepAlive: keepAlive)
        if next == .readNext { becameIdle() }
        writeError(error, requestID: exchange.requestID, keepAlive: keepAlive, version: exchange.clientHead.version, extraHeaders: extraHeaders)
        if next == .readNext { schedulePipelineDrain() }
    }

    /// Writes a JSON error response; closes the connection afterwards unless `keepAlive`.
    private func writeError(
        _ error: GatewayError, requestID: String, keepAlive: Bool, version: HTTPVersion, extraHeaders: [(String, String)] = []
    ) {
        guard let context else { return }
        let body = error.body(requestID: requestID, allocator: context.channel.allocator)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "X-Request-ID", value: requestID)
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: error.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let promise = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
            promise.futureResult.assumeIsolated().whenComplete { _ in self.closeClient() }
        }
    }

    // MARK: Completion

    /// Both sides are done: log, write the response's `.end`, and get ready for the next
    /// request (or close).
    private func completeExchange(_ exchange: ProxyExchange) {
        finish(exchange, error: nil)
        guard let context else { return }
        if connection.exchangeFinished(keepAlive: exchange.keepAlive) == .readNext {
            becameIdle()
            writeEnd(exchange, context: context, promise: nil)
            schedulePipelineDrain()
        } else {
            let promise = context.eventLoop.makePromise(of: Void.self)
            writeEnd(exchange, context: context, promise: promise)
            promise.futureResult.assumeIsolated().whenComplete { _ in self.closeClient() }
        }
    }

    private func finish(_ exchange: ProxyExchange, error: String?) {
        guard !exchange.recorded else { return }
        exchange.recorded = true
        deadlines.upstreamSettled()
        exchange.backoff?.cancel()
        exchange.backoff = nil
        if !exchange.outcomeRecorded { recordOutcome(exchange, .abandoned, latencySeconds: nil) }
        resumeClientReads()
        recorder.exchangeFinished(exchange, error: error)
    }

    /// Tells the breaker and the balancer how the current attempt ended (once per attempt).
    private func recordOutcome(_ exchange: ProxyExchange, _ outcome: ServiceBreakers.Outcome, latencySeconds: Double?, status: Int = 0) {
        exchange.recordOutcome(outcome, latencySeconds: latencySeconds, status: status, now: Self.policyNow())
    }

    /// Cache-store stage, once both sides completed.
    private func storeInCache(_ exchange: ProxyExchange, allocator: ByteBufferAllocator) {
        guard let fill = exchange.cacheFill else { return }
        exchange.cacheFill = nil
        environment.caching.store(fill, request: exchange.clientHead.headers, now: Self.policyNow(), allocator: allocator)
    }

    private func logRejected(_ head: RequestHead, requestID: String, error: GatewayError, service: String? = nil) {
        recorder.refused(head, requestID: requestID, error: error, service: service, trace: pendingTrace)
        pendingTrace = nil
    }

    private func closeClient() {
        connection.closing()
        pendingHead = nil
        context?.close(promise: nil)
    }

    // MARK: Timers: idle keep-alive, request-head deadline, shutdown drain

    /// Graceful shutdown: idle connections close at once; busy ones get the drain time to
    /// finish, then are cut.
    func gracefulShutdownStarted() {
        let action = connection.quiesce(pendingBytes: reader.hasBufferedBytes)
        guard let context else { return }
        if action == .closeNow {
            closeClient()
            return
        }
        context.eventLoop.assumeIsolated().scheduleTask(in: environment.drainTime) {
            self.closeClient()
        }
    }

    private func becameIdle() {
        apply(deadlines.becameIdle(now: .now()))
    }

    /// Arms the connection's one timer where the deadlines say.
    private func apply(_ action: ConnectionDeadlines.TimerAction) {
        guard case .arm(let deadline) = action, let context else { return }
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        let (expired, next) = deadlines.timerFired(now: .now(), idle: connection.isIdle)
        apply(next)
        for deadline in expired {
            switch deadline {
            case .upstream:
                if case .proxying(let exchange) = state { upstreamTimedOut(exchange) }
            case .head:
                // A request head started arriving and did not finish in time (slowloris).
                if let front = frontContext {
                    let error = GatewayError(status: .requestTimeout, code: "request_timeout", detail: "the request head did not arrive in time")
                    writeRawAndClose(status: "408 Request Timeout", body: error.body(requestID: requestIdentifier.generate(), allocator: front.channel.allocator), to: front)
                } else {
                    closeClient()
                }
                connection.closing()
            case .idle:
                closeClient()
            }
        }
    }

    /// Writes a complete response as bytes and closes: no request was decoded (a head that
    /// never finished), so NIO's response encoder has no request to answer.
    private func writeRawAndClose(status: String, body: ByteBuffer, to front: ChannelHandlerContext) {
        var buffer = front.channel.allocator.buffer(capacity: 128 + body.readableBytes)
        buffer.writeString("HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.readableBytes)\r\nConnection: close\r\n\r\n")
        var body = body
        buffer.writeBuffer(&body)
        let written = front.eventLoop.makePromise(of: Void.self)
        front.writeAndFlush(NIOAny(buffer), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in front.close(promise: nil) }
    }
}
