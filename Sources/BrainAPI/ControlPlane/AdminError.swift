import Hummingbird

/// An admin-API refusal, rendered by `JSONErrorMiddleware` as the gateway's JSON error body —
/// with `field` for 422 (`{"error": "invalid_request", "detail": …, "field": "instances[0]"}`).
struct AdminError: Error {
    let status: HTTPResponse.Status
    let code: String
    let detail: String
    var field: String?
    var headers: HTTPFields = [:]

    static func invalid(_ field: String, _ detail: String) -> AdminError {
        AdminError(status: .unprocessableContent, code: "invalid_request", detail: detail, field: field)
    }
    static func notFound(_ detail: String) -> AdminError { AdminError(status: .notFound, code: "not_found", detail: detail) }
    static func conflict(_ detail: String) -> AdminError { AdminError(status: .conflict, code: "conflict", detail: detail) }
    static func preconditionFailed(_ detail: String) -> AdminError {
        AdminError(status: .preconditionFailed, code: "precondition_failed", detail: detail)
    }
    static func unauthenticated(_ detail: String) -> AdminError {
        AdminError(status: .unauthorized, code: "unauthenticated", detail: detail, headers: [.wwwAuthenticate: "Bearer realm=\"brain-gateway\""])
    }
    static func invalidToken(_ detail: String) -> AdminError {
        AdminError(
            status: .unauthorized, code: "invalid_token", detail: detail,
            headers: [.wwwAuthenticate: "Bearer realm=\"brain-gateway\", error=\"invalid_token\""])
    }
    static func forbidden(_ detail: String) -> AdminError { AdminError(status: .forbidden, code: "forbidden", detail: detail) }
}
