import AsyncHTTPClient
import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Tracing
import Synchronization

/// The assembled gateway: registry, health, upstream pools, both planes on one port, and the
/// background services, run as one `ServiceGroup` that shuts down gracefully on SIGTERM/SIGINT.
public final class BrainGateway: Sendable {
    public let configuration: GatewayConfiguration
    public let registry: ServiceRegistry
    public let health: HealthBoard
    /// The most recent events, in memory (`journal.recent`).
    public let events: InMemoryEventLog
    /// The durable event log (stored once the store is open).
    public let journal: EventJournal
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let pools: UpstreamPools
    private let httpClient: HTTPClient
    private let secretsSealer: SecretSealer?
    private let tokenVerifier: TokenVerifier
    private let proofOfOrigin: ProofOfOriginCaches
    /// Present when `JWT_JWKS_URL` is set.
    public let jwks: JWKSRefresher?
    /// Present when `AUTH_INTROSPECTION_URL` is set.
    public let introspector: TokenIntrospector?
    /// Every service's circuit breakers, shared by the data plane and the health monitor.
    public let breakers: BreakerBoard
    public let counters: TrafficCounters
    public let rateLimits: InProcessRateLimitStore
    /// Redis, when `REDIS_URL` is set: rate limits shared by the replicas.
    public let sharedState: SharedState?
    /// The response cache's second level in Redis, with `sharedState`.
    private let sharedCache: SharedResponseCache?
    public let responseCache: ResponseCache
    private let traffic: TrafficStates
    /// Prometheus metrics (`/metrics`).
    public let metrics: GatewayMetrics

    /// The clock of every traffic policy: monotonic seconds (wall-clock jumps must not open or
    /// close breakers, or reset rate-limit windows).
    public static let policyClock: @Sendable () -> Double = { Double(NIODeadline.now().uptimeNanoseconds) / 1e9 }

    /// - Parameters:
    ///   - hs256Key: the `JWT_SECRET` key, if any; JWKS keys come from the settings' URL.
    ///   - secretsSealer: the embedded secret store's key (`BRAIN_GATEWAY_SECRETS_KEY`), used
    ///     when Vault is not configured; with neither, activations answer 503.
    public init(
        configuration: GatewayConfiguration, hs256Key: TokenVerifier.Key?, signer: ProofOfOriginSigner,
        secretsSealer: SecretSealer? = nil, logger: Logger, threads: Int = System.coreCount
    ) throws {
        self.configuration = configuration
        self.secretsSealer = secretsSealer
        self.logger = logger
        let recent = InMemoryEventLog()
        self.events = recent
        let journal = EventJournal(recent: recent, retentionSeconds: Double(configuration.settings.eventRetentionDays) * 86_400, logger: logger)
        self.journal = journal
        let now: @Sendable () -> Double = { Date().timeIntervalSince1970 }
        // The configuration's services until the store is open; `run` then serves the store's.
        self.registry = ServiceRegistry(services: configuration.services)
        self.health = HealthBoard(events: journal, now: now)
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        let connector = try UpstreamConnector(extraTrustRootsFile: configuration.settings.upstreamCAFile)
        self.pools = UpstreamPools(group: group, connector: connector, maxIdlePerInstance: configuration.settings.upstreamMaxIdleConnections,
            maxOpenPerInstance: configuration.settings.upstreamMaxConnections)
        let counters = TrafficCounters()
        self.counters = counters
        self.breakers = BreakerBoard(
            health: health, events: journal, counters: counters,
            probeIntervalSeconds: Double(configuration.settings.healthCheckIntervalSeconds), now: now)
        self.rateLimits = InProcessRateLimitStore()
        if let url = configuration.settings.redisURL {
            var redis: RedisConfiguration
            do {
                redis = try RedisConfiguration(url: url, timeout: Double(configuration.settings.redisTimeoutMilliseconds) / 1000)
                redis.caFile = configuration.settings.redisCAFile
            } catch {
                throw ConfigurationError(field: "REDIS_URL", reason: error.description)
            }
            self.sharedState = try SharedState(
                configuration: redis, group: group, failureMode: configuration.settings.redisFailureMode,
                replicas: configuration.settings.replicas, events: journal, logger: logger)
        } else {
            self.sharedState = nil
        }
        let responseCache = ResponseCache(capacityBytes: configuration.settings.responseCacheBytes)
        self.responseCache = responseCache
        let group = self.group
        self.sharedCache = sharedState.map { SharedResponseCache(client: $0.client, local: responseCache, group: group, logger: logger) }
        let metrics = GatewayMetrics()
        self.metrics = metrics
        self.traffic = TrafficStates(
            loops: Array(group.makeIterator()), breakerBoard: breakers, metrics: metrics, evidenceWindowSeconds: configuration.optimizer.windowSeconds)
        self.proofOfOrigin = ProofOfOriginCaches(signer: signer, loops: group.makeIterator().map { $0 as AnyObject }, logger: logger)
        var clientConfiguration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(2), read: .seconds(2)))
        clientConfiguration.connectionPool.idleTimeout = .seconds(60)
        // Health probes trust exactly what the data plane trusts.
        var probeTLS = TLSConfiguration.makeClientConfiguration()
        if let caFile = configuration.settings.upstreamCAFile { probeTLS.additionalTrustRoots = [.file(caFile)] }
        clientConfiguration.tlsConfiguration = probeTLS
        let httpClient = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: clientConfiguration)
        self.httpClient = httpClient
        let ring = KeyRing(fixed: hs256Key.map { [$0] } ?? [])
        let jwks = configuration.settings.jwtJWKSURL.map {
            JWKSRefresher(url: $0, client: httpClient, ring: ring, refreshSeconds: configuration.settings.jwksRefreshSeconds, logger: logger)
        }
        self.jwks = jwks
        self.introspector = configuration.settings.introspection.map {
            TokenIntrospector(settings: .init($0), client: httpClient, logger: logger)
        }
        self.tokenVerifier = TokenVerifier(
            ring: ring, leewaySeconds: Double(configuration.settings.jwtLeewaySeconds),
            issuer: configuration.auth.issuer, audience: configuration.auth.audience,
            onUnknownKey: Self.unknownKeyHook(jwks))
    }

    /// Runs until a graceful shutdown (signal or `shutdown` trigger) completes.
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let settings = configuration.settings
        let tracingBackend = try settings.tracing.map(OTLPTracing.backend)
        let authentication = Authentication(verifier: tokenVerifier, publicPaths: configuration.auth.publicPaths, introspector: introspector)
        let environment = DataPlaneEnvironment(
            registry: registry, health: health, pools: pools, limits: settings.limits,
            authentication: authentication,
            proofOfOrigin: proofOfOrigin,
            rateLimiting: RateLimiting(store: rateLimits, tenantLimits: configuration.tenantRateLimits, shared: sharedState),
            cache: responseCache, traffic: traffic, counters: counters, metrics: metrics,
            tracing: RequestTracing(tracer: tracingBackend?.tracer),
            logger: logger, drainTime: .seconds(Int64(settings.shutdownDrainSeconds)),
            sharedCache: sharedCache, sharedState: sharedState)
        // Storage: open (migrating), apply the YAML, load the registry — all before serving.
        let store: StoreConnection
        do {
            store = try await StoreConnection.open(configuration: configuration, logger: logger)
        } catch {
            // The client must be shut down before it is released, even when nothing ran.
            try? await httpClient.shutdown()
            throw error
        }
        let administration = RegistryAdministration(
            repository: store.repository, registry: registry, events: journal, now: { Date().timeIntervalSince1970 }, logger: logger)
        do {
            try await administration.seed(configuration.services)
            try await administration.reload()
        } catch {
            await store.close()
            try? await httpClient.shutdown()
            throw error
        }
        journal.attach(store.events)
        administrationBox.set(administration)
        let storage = store.probe

        // Workflows: the YAML's, checked against the registry now loaded (a workflow calling a
        // service nobody registered stops the start, naming the field), then the store's.
        let integrations = makeIntegrations(store: store, tracer: tracingBackend?.tracer)
        integrationsBox.set(integrations.connections)
        let catalog = WorkflowCatalog()
        let workflowAdministration = WorkflowAdministration(
            repository: store.workflows, catalog: catalog, registry: registry, agents: configuration.agents, events: journal,
            now: { Date().timeIntervalSince1970 }, logger: logger, integrations: integrations.proxy.integrationNames)
        do {
            // The admin API's checks, each entry against the ones before it (the catalogue is
            // then reloaded from the store).
            for (index, workflow) in configuration.workflows.enumerated() {
                if let violation = workflowAdministration.check(workflow.definition) {
                    throw ConfigurationError(field: "workflows[\(index)].\(violation.field)", reason: violation.reason)
                }
                catalog.upsert(workflow.definition)
            }
            try await workflowAdministration.seed(configuration.workflows)
            try await workflowAdministration.reload()
        } catch {
            await store.close()
            try? await httpClient.shutdown()
            try? await integrations.client.shutdown()
            throw error
        }
        workflowAdministrationBox.set(workflowAdministration)
        let optimiserSettings = configuration.optimizer
        if configuration.optimizerConfigured, optimiserSettings.mode != .off,
           (try? ServiceName(optimiserSettings.selfHealingWorkflow)).flatMap({ catalog.definition(named: $0, for: nil) }) == nil
        {
            await store.close()
            try? await httpClient.shutdown()
            try? await integrations.client.shutdown()
            throw ConfigurationError(
                field: "optimizer.self_healing_workflow", reason: "no workflow named '\(optimiserSettings.selfHealingWorkflow)' is defined")
        }
        let stepCaller = GatewayStepCaller(environment: environment, group: group)
        let engine = WorkflowEngine(
            repository: store.runs, caller: stepCaller, agents: AgentRouter(settings: configuration.agents),
            events: journal, observer: metrics, counters: counters, now: { Date().timeIntervalSince1970 }, logger: logger,
            integrations: integrations.proxy)
        engineBox.set(engine)
        let optimiser = Optimiser(
            settings: optimiserSettings, registry: registry, source: traffic, runs: EngineOptimiserRuns(engine: engine, catalog: catalog),
            events: journal, counters: counters, logger: logger, clock: { Date().timeIntervalSince1970 },
            observer: { [metrics] in metrics.autonomousDecision($0) })
        optimiserBox.set(optimiser)
        let runsController = WorkflowRunsController<ControlPlaneContext>(
            catalog: catalog, engine: engine, runs: store.runs, authentication: authentication)

        let router = Router(context: ControlPlaneContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: MethodNotAllowedMiddleware())
        router.add(middleware: WorkflowExposureMiddleware(controller: runsController))
        HealthController(registry: registry, board: health, storage: storage, vault: integrations.vault, sharedState: sharedState).addRoutes(to: router)
        IntegrationController<ControlPlaneContext>(connections: integrations.connections, proxy: integrations.proxy, authentication: authentication)
            .addRoutes(to: router)
        DocsController().addRoutes(to: router)
        DashboardController().addRoutes(to: router)
        MetricsController(metrics: metrics, registry: registry, health: health, breakers: breakers, sharedState: sharedState).addRoutes(to: router)
        AdminController(
            administration: administration, journal: journal, health: health, breakers: breakers, counters: counters,
            metrics: traffic, defaults: configuration.serviceDefaults, authentication: authentication, workflows: workflowAdministration
        ).addRoutes(to: router)
        runsController.addRoutes(to: router)
        AgentController<ControlPlaneContext>(engine: engine, caller: stepCaller, authentication: authentication).addRoutes(to: router)
        OptimiserController<ControlPlaneContext>(optimiser: optimiser, authentication: authentication).addRoutes(to: router)
        GraphQLController(
            api: try GatewayGraphQLAPI(resolver: GraphQLResolver(
                administration: administration, health: health, journal: journal, traffic: traffic, counters: counters,
                defaults: configuration.serviceDefaults,
                workflowQueries: GraphQLWorkflows(workflows: workflowAdministration, runs: store.runs, engine: engine),
                integrationQueries: GraphQLIntegrations(connections: integrations.connections))),
            authentication: authentication
        ).addRoutes(to: router)
        let proofKeys = proofOfOrigin.signer.jwksJSON
        router.get("/.well-known/jwks.json") { _, _ in
            // Public: backends fetch it to verify X-Brain-Token.
            var response = JSONResponse.raw(proofKeys)
            response.headers[.cacheControl] = "public, max-age=300"
            return response
        }
        router.get("/") { _, _ in
            JSONResponse.raw(#"{"name":"brain-gateway","health":"/health"}"#)
        }

        let serverLogger = logger
        let app = Application(
            router: router,
            server: HTTPServerBuilder { responder in GatewayChannel(responder: responder, environment: environment) },
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil, backlog: 4096, reuseAddress: true),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? settings.port
                serverLogger.notice("brain-gateway listening", metadata: [
                    "address": .string("\(settings.host):\(port)"),
                    "services": .stringConvertible(self.registry.directory.services.count),
                ])
                await onListening(port)
            },
            eventLoopGroupProvider: .shared(group),
            logger: logger
        )

        let monitor = HealthMonitor(
            registry: registry, board: health, probe: HTTPHealthProbe(client: httpClient),
            intervalSeconds: settings.healthCheckIntervalSeconds, breakers: breakers, now: Self.policyClock, logger: logger)

        // Idle rate-limit keys leave memory even in shards no request reaches any more.
        let rateLimits = self.rateLimits
        let integrationProxy = integrations.proxy
        let sweeper = group.next().scheduleRepeatedTask(initialDelay: .seconds(10), delay: .seconds(10)) { _ in
            rateLimits.sweepIdle(now: Self.policyClock())
            integrationProxy.sweepIdle(now: Self.policyClock())
        }
        defer { sweeper.cancel() }

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: app), .init(service: monitor), .init(service: journal), .init(service: optimiser),
        ]
        if let exporter = tracingBackend?.service {
            // First in the list, so it stops last and exports the spans of the final requests.
            services.insert(.init(service: exporter), at: 0)
        }
        if let client = store.postgres {
            services.append(.init(service: RegistryChangeListener(
                client: client, administration: administration, workflows: workflowAdministration, logger: logger)))
        }
        if let vault = integrations.vault { services.append(.init(service: vault)) }
        if let sharedState {
            // The first heartbeat before traffic: the replica count and Redis's state are known.
            await sharedState.heartbeat()
            // First in the list, so they stop after the server: draining requests still share
            // their limits and cache.
            services.insert(.init(service: sharedState), at: 0)
            if let sharedCache { services.insert(.init(service: sharedCache), at: 0) }
        }
        if let jwks {
            // Keys before traffic: a first fetch (failure is logged; the refresher keeps trying).
            await jwks.refresh()
            services.append(.init(service: jwks))
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        // In-flight requests get the drain time (the data plane cuts them then); this bound is
        // the backstop for everything else.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(settings.shutdownDrainSeconds + 5)
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        // Runs a previous process left unfinished go on (succeeded steps are not called again);
        // idempotency records older than a day, and finished runs past their retention, are
        // forgotten, at start and hourly.
        let runs = store.runs
        let runRetention = Double(settings.runRetentionDays) * 86_400
        let forget: @Sendable () async -> Void = { [logger] in
            let now = Date().timeIntervalSince1970
            try? await runs.forgetIdempotency(before: now - 86_400)
            if let removed = try? await runs.forgetRuns(startedBefore: now - runRetention), removed > 0 {
                logger.info("old workflow runs deleted", metadata: ["count": .stringConvertible(removed)])
            }
        }
        await forget()
        await engine.resumeUnfinished { run in
            if let document = run.adHocDefinition { return try? WorkflowDocumentReader().workflowDocument(json: document) }
            return catalog.definition(named: run.workflow, for: run.workflowTenant)
        }
        let forgetting = Task {
            while (try? await Task.sleep(for: .seconds(3600))) != nil { await forget() }
        }
        defer { forgetting.cancel() }
        let serviceGroup = ServiceGroup(configuration: groupConfiguration)
        gatewayGroupBox.set(serviceGroup)
        defer { gatewayGroupBox.set(nil) }
        do {
            try await serviceGroup.run()
        } catch {
            await engine.stopAll()
            try? await httpClient.shutdown()
            try? await integrations.client.shutdown()
            await store.close()
            throw error
        }
        // Runs still going stay `running` in the store and resume at the next start.
        await engine.stopAll()
        await store.close()
        pools.closeAll()
        try? await integrations.client.shutdown()
        try await httpClient.shutdown()
        logger.notice("brain-gateway stopped")
    }

    /// Integrations: the catalogue (shipped + YAML), the secret store (Vault when configured,
    /// else the embedded encrypted one when a key is set, else none: activations answer 503),
    /// and the outbound proxy with its own HTTP client.
    private func makeIntegrations(store: StoreConnection, tracer: (any Tracer)?) -> (
        connections: IntegrationConnections, proxy: IntegrationProxy, vault: VaultSecretStore?, client: HTTPClient
    ) {
        let settings = configuration.settings
        let wallClock: @Sendable () -> Double = { Date().timeIntervalSince1970 }
        var vault: VaultSecretStore?
        var secrets: (any SecretStore)?
        if let vaultSettings = settings.vault {
            let adapter = VaultSecretStore(settings: vaultSettings, client: httpClient, logger: logger)
            vault = adapter
            secrets = CachedSecretStore(
                adapter, cacheSeconds: Double(vaultSettings.cacheSeconds), staleSeconds: Double(vaultSettings.staleSeconds), now: Self.policyClock)
        } else if let secretsSealer {
            // A short cache: replicas sharing the database see each other's changes within it.
            secrets = CachedSecretStore(
                EncryptedSecretStore(sealer: secretsSealer, records: store.sealedRecords), cacheSeconds: 5, staleSeconds: 600, now: Self.policyClock)
        }
        var tiers: [String: String] = [:]
        for (pattern, names) in configuration.agents.tiers {
            for name in names where tiers[name] == nil { tiers[name] = pattern.rawValue }
        }
        let client = ProviderClient.makeHTTPClient(group: group, extraTrustRootsFile: settings.upstreamCAFile)
        let provider = ProviderClient(client: client)
        let tokens = OAuthTokens()
        let connections = IntegrationConnections(
            catalogue: IntegrationCatalogueReader().catalogue(overrides: configuration.integrations), tiers: tiers, secrets: secrets,
            missingStore: "no secret store is configured: set VAULT_ADDR and VAULT_TOKEN, or BRAIN_GATEWAY_SECRETS_KEY (or BRAIN_GATEWAY_SECRETS_KEY_FILE)",
            verifier: ProviderVerification(provider: provider, now: wallClock), events: journal, now: wallClock,
            changed: { tenant, name in tokens.forget(.init(tenant: tenant, integration: name)) })
        var proxySettings = IntegrationProxy.Settings()
        proxySettings.rateLimit = RateLimitPolicy(requests: settings.integrationRequestsPerMinute, windowSeconds: 60)
        let proxy = IntegrationProxy(
            connections: connections, provider: provider, tokens: tokens, settings: proxySettings, metrics: metrics, now: wallClock,
            monotonic: Self.policyClock, logger: logger, tracer: tracer, refreshLock: sharedState.map { RedisRefreshLock(client: $0.client) })
        return (connections, proxy, vault, client)
    }

    private let gatewayGroupBox = ServiceGroupBox()
    private let administrationBox = Box<RegistryAdministration>()
    private let engineBox = Box<WorkflowEngine>()
    private let workflowAdministrationBox = Box<WorkflowAdministration>()
    private let integrationsBox = Box<IntegrationConnections>()
    private let optimiserBox = Box<Optimiser>()

    /// The autonomous optimiser, once `run` has started the engine.
    public var optimiser: Optimiser? { optimiserBox.get() }

    /// Tenants' integration connections, once `run` has opened the store.
    public var integrations: IntegrationConnections? { integrationsBox.get() }

    /// Workflow definitions' commands and queries, once `run` has opened the store.
    public var workflowAdministration: WorkflowAdministration? { workflowAdministrationBox.get() }

    /// The workflow engine, once `run` has opened the store.
    public var workflows: WorkflowEngine? { engineBox.get() }

    /// The registry's commands and queries, once `run` has opened the store.
    public var administration: RegistryAdministration? { administrationBox.get() }

    private static func unknownKeyHook(_ refresher: JWKSRefresher?) -> (@Sendable () -> Void)? {
        guard let refresher else { return nil }
        return { refresher.unknownKeySeen() }
    }

    /// Starts a graceful shutdown, as SIGTERM does.
    public func shutdown() async {
        await gatewayGroupBox.get()?.triggerGracefulShutdown()
    }

    deinit {
        try? group.syncShutdownGracefully()
    }
}

/// Holds the running service group so `shutdown()` can reach it.
private final class ServiceGroupBox: Sendable {
    private let value = Mutex<ServiceGroup?>(nil)
    func set(_ group: ServiceGroup?) { value.withLock { $0 = group } }
    func get() -> ServiceGroup? { value.withLock { $0 } }
}

private final class Box<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    func set(_ new: Value?) { value.withLock { $0 = new } }
    func get() -> Value? { value.withLock { $0 } }
}
