import BrainDomain

/// Where AI agents run and how many of them a request gets (the seed's crew tiers).
public struct AgentSettings: Sendable, Equatable {
    public enum Pattern: String, Sendable, CaseIterable {
        case fourAgent = "four_agent", threeAgent = "three_agent", twoAgent = "two_agent", singleAgent = "single_agent"

        public var agents: Int {
            switch self {
            case .fourAgent: 4
            case .threeAgent: 3
            case .twoAgent: 2
            case .singleAgent: 1
            }
        }
    }

    public var service: ServiceName
    public var executePath: String
    public var catalogPath: String
    public var timeoutMilliseconds: Int
    public var retryAttempts: Int
    /// Tier → the integrations in it (`single_agent` is everything else).
    public var tiers: [Pattern: [String]]

    public static let seedTiers: [Pattern: [String]] = [
        .fourAgent: ["facebook", "amazon-sp", "amazon-ads", "stripe", "paypal", "payu"],
        .threeAgent: ["instagram", "linkedin", "youtube", "google-search", "google-ads", "google-analytics", "openai", "anthropic"],
        .twoAgent: [
            "twitter", "tiktok", "pinterest", "google-business", "bing", "facebook-ads", "razorpay", "amazon-ses", "sendgrid", "twilio",
            "hubspot", "calendly",
        ],
    ]

    public init(
        service: ServiceName = .aiAgents, executePath: String = "/execute", catalogPath: String = "/catalog",
        timeoutMilliseconds: Int = 60_000, retryAttempts: Int = 2, tiers: [Pattern: [String]] = seedTiers
    ) {
        self.service = service
        self.executePath = executePath
        self.catalogPath = catalogPath
        self.timeoutMilliseconds = timeoutMilliseconds
        self.retryAttempts = retryAttempts
        self.tiers = tiers
    }
}

/// Decides the crew for a name and builds the agents service's request (`AIAgentRouter`).
public struct AgentRouter: Sendable {
    public let settings: AgentSettings
    private let patternByName: [String: AgentSettings.Pattern]

    public init(settings: AgentSettings) {
        self.settings = settings
        var byName: [String: AgentSettings.Pattern] = [:]
        // Larger crews first: a name listed twice gets the larger one.
        for pattern in AgentSettings.Pattern.allCases {
            for name in settings.tiers[pattern] ?? [] where byName[name] == nil { byName[name] = pattern }
        }
        self.patternByName = byName
    }

    /// Agent and integration names: `[a-z][a-z0-9_-]*`, at most 63 characters.
    public static func isAgentName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first >= UInt8(ascii: "a"), first <= UInt8(ascii: "z"), name.utf8.count <= 63 else { return false }
        return name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }
    }

    /// A name in a tier is an integration and gets that crew; any other name is one agent.
    public func pattern(for name: String) -> AgentSettings.Pattern { patternByName[name] ?? .singleAgent }

    public func isIntegration(_ name: String) -> Bool { patternByName[name] != nil }

    /// The body sent to `POST {base_path}{execute_path}` of the agents service.
    public func payload(name: String, action: String, data: JSONValue, tenant: TenantID?, requestID: String) -> JSONValue {
        let pattern = pattern(for: name)
        let integration = isIntegration(name)
        return .object([
            "agent": integration ? .null : .string(name),
            "integration": integration ? .string(name) : .null,
            "pattern": .string(pattern.rawValue),
            "agents": .number(Double(pattern.agents)),
            "action": .string(action),
            "data": data,
            "tenant_id": tenant.map { .string($0.value) } ?? .null,
            "request_id": .string(requestID),
        ])
    }
}
