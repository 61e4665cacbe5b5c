import Hummingbird
import NIOCore

/// Turns every control-plane error into the gateway's JSON error body, with a request id
/// (the client's `X-Request-ID` when it is a plain token), so both planes fail alike.
public struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let supplied = request.headers[.requestID]
        let requestID = supplied.flatMap { RequestIdentifier.isAcceptable($0) ? $0 : nil } ?? RequestIdentifier.generate()
        do {
            var response = try await next(request, context)
            // A handler that put the id in its body (a workflow's failure) has set it already.
            if response.headers[.requestID] == nil { response.headers[.requestID] = requestID }
            return response
        } catch let error as AdminError {
            var text = "{\"error\":"
            JSONText.appendString(error.code, to: &text)
            text += ",\"detail\":"
            JSONText.appendString(error.detail, to: &text)
            if let field = error.field {
                text += ",\"field\":"
                JSONText.appendString(field, to: &text)
            }
            text += ",\"request_id\":"
            JSONText.appendString(requestID, to: &text)
            text += "}"
            var headers = error.headers
            headers[.contentType] = "application/json"
            headers[.requestID] = requestID
            return Response(status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
        } catch let error as any HTTPResponseError {
            let (code, detail): (String, String) = switch error.status {
            case .notFound: ("not_found", "no such endpoint")
            case .methodNotAllowed: ("method_not_allowed", "method not allowed on this endpoint")
            case .badRequest: ("bad_request", "malformed request")
            default: ("error", "the request failed")
            }
            return Self.errorResponse(status: error.status, code: code, detail: detail, requestID: requestID)
        } catch {
            context.logger.error("control plane error", metadata: ["error": "\(error)", "request_id": .string(requestID)])
            return Self.errorResponse(status: .internalServerError, code: "internal_error", detail: "internal error", requestID: requestID)
        }
    }

    static func errorResponse(status: HTTPResponse.Status, code: String, detail: String, requestID: String) -> Response {
        let error = GatewayError(status: .init(statusCode: status.code), code: code, detail: detail)
        let body = error.body(requestID: requestID, allocator: ByteBufferAllocator())
        return Response(status: status, headers: [.contentType: "application/json", .requestID: requestID], body: .init(byteBuffer: body))
    }
}
