/// A tenant's connection to one integration: its credentials, where its requests go when that
/// is not the catalogue's base URL, and whether the credentials still work.
///
/// Kept whole in the secret store (one secret per tenant and integration), so the status and
/// refreshed OAuth tokens survive restarts and are shared by replicas. The stored form is the
/// credential fields plus two entries whose names no credential field can have (`@base_url`,
/// `@status`: field names are lowercase words).
public struct IntegrationConnection: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable {
        case active
        /// The provider refused to refresh the OAuth token: new credentials are needed.
        case needsReauth = "needs_reauth"
    }

    public var credentials: Credentials
    /// The tenant's own base URL for the provider (a sandbox, a regional endpoint), if any.
    public var baseURL: String?
    public var status: Status

    public init(credentials: Credentials, baseURL: String? = nil, status: Status = .active) {
        self.credentials = credentials
        self.baseURL = baseURL
        self.status = status
    }

    private static let baseURLKey = "@base_url"
    private static let statusKey = "@status"

    /// Reads the stored form (an unknown status reads as active: the credentials decide).
    public init(stored: Credentials) {
        var values = stored.values
        baseURL = values.removeValue(forKey: Self.baseURLKey)
        status = values.removeValue(forKey: Self.statusKey).flatMap(Status.init(rawValue:)) ?? .active
        credentials = Credentials(values)
    }

    /// The form kept in the secret store.
    public var stored: Credentials {
        var values = credentials.values
        if let baseURL { values[Self.baseURLKey] = baseURL }
        values[Self.statusKey] = status.rawValue
        return Credentials(values)
    }

    /// The base URL requests go to: the tenant's, else the catalogue's.
    public func baseURL(of integration: Integration) -> String { baseURL ?? integration.baseURL }
}
