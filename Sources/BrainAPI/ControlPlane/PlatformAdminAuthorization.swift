import BrainDomain
import Hummingbird

/// A request context that carries the caller once a middleware has verified it.
public protocol CallerRequestContext: RequestContext {
    var caller: Principal? { get set }
}

/// The control plane's request context.
public struct ControlPlaneContext: CallerRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var caller: Principal?

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }
}

/// Admits only callers with the platform-admin role to the routes behind it (the admin API):
/// 401 without a valid token, 403 with one that lacks the role. The verified caller is left in
/// the context for the handler. Where a browser cannot set headers (the event stream and
/// `/ws/events`), `?access_token=` is accepted too; the access log never records query strings.
struct PlatformAdminAuthorization<Context: CallerRequestContext>: RouterMiddleware {
    let authentication: Authentication

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let allowQueryToken = AdminOperation.queryTokenPaths.contains(request.uri.path)
        let caller = try await ControlPlaneCaller.principal(request, authentication: authentication, allowQueryToken: allowQueryToken)
        guard caller.isPlatformAdmin else { throw AdminError.forbidden("the admin API needs the platform-admin role") }
        var context = context
        context.caller = caller
        return try await next(request, context)
    }
}
