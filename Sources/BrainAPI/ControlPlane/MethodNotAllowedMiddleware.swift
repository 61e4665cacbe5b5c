import Foundation
import Hummingbird

/// A known control-plane path asked with a method it does not serve answers 405 with `Allow`
/// (RFC 9110 §15.5.6), not 404: the path exists, the method is the mistake. The paths and
/// methods are the OpenAPI document's, which `OpenAPITests` keeps equal to what is served.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Path templates split into segments (`{…}` matches any one segment), with their methods.
    private let operations: [(segments: [Substring], methods: [String])]

    init(openAPIDocument: String = OpenAPIDocument.json) {
        let document = (try? JSONSerialization.jsonObject(with: Data(openAPIDocument.utf8))) as? [String: Any]
        let paths = document?["paths"] as? [String: [String: Any]] ?? [:]
        let verbs = ["get", "put", "post", "delete", "patch", "options", "head"]
        operations = paths.map { path, item in
            (path.split(separator: "/"), verbs.filter { item[$0] != nil }.map { $0.uppercased() })
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError where error.status == .notFound {
            let methods = allowed(path: request.uri.path)
            guard !methods.isEmpty, !methods.contains(request.method.rawValue) else { throw error }
            throw AdminError(
                status: .methodNotAllowed, code: "method_not_allowed",
                detail: "\(request.method.rawValue) is not served here; allowed: \(methods.joined(separator: ", "))",
                headers: [.allow: methods.joined(separator: ", ")])
        }
    }

    func allowed(path: String) -> [String] {
        let segments = path.split(separator: "/")
        var methods: [String] = []
        for operation in operations where operation.segments.count == segments.count {
            let matches = zip(operation.segments, segments).allSatisfy { template, actual in template.first == "{" || template == actual }
            if matches { methods += operation.methods }
        }
        return methods
    }
}
