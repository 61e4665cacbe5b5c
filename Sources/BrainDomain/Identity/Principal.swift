/// The caller as a verified token describes it: who (`sub`), for which tenant (`tenant_id`),
/// with which roles, until when.
public struct Principal: Sendable, Equatable {
    public let subject: String
    public let tenant: TenantID
    public let roles: [String]
    /// `exp`, seconds since 1970.
    public let expiresAt: Double

    /// The role that may act for any tenant and use the admin API.
    public static let platformAdminRole = "platform-admin"

    public init(subject: String, tenant: TenantID, roles: [String], expiresAt: Double) {
        self.subject = subject
        self.tenant = tenant
        self.roles = roles
        self.expiresAt = expiresAt
    }

    public var isPlatformAdmin: Bool { roles.contains(Self.platformAdminRole) }

    public func hasAny(of required: [String]) -> Bool {
        required.isEmpty || required.contains { roles.contains($0) }
    }
}
