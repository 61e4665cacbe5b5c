import AsyncHTTPClient
import BrainApplication
import BrainDomain
import NIOCore
import NIOHTTP1

/// Workflow steps of kind `integration:` go out through the proxy like a client's call, with
/// the run's tenant's credentials and `Idempotency-Key: <run_id>:<step_id>` (which also makes
/// a POST retryable, as the provider deduplicates).
extension IntegrationProxy: IntegrationStepCaller {
    public var integrationNames: Set<String> { Set(connections.catalogue.keys) }

    public func call(
        integration: String, method: HttpMethod, path: String, body: String?, tenant: TenantID, idempotencyKey: String, timeoutSeconds: Double
    ) async -> Result<StepResponse, StepCallFailure> {
        var headers = HTTPHeaders([("Idempotency-Key", idempotencyKey), ("Accept", "application/json")])
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        let sent = headers
        let outcome: Result<StepResponse, StepCallFailure> = await withTaskGroup(of: Result<StepResponse, StepCallFailure>?.self) { group in
            group.addTask {
                do {
                    let answer = try await self.call(
                        integration, tenant: tenant, method: HTTPMethod(rawValue: method.description), pathAndQuery: path, headers: sent,
                        body: body.map { ByteBuffer(string: $0) })
                    let bytes = try await answer.response.body.collect(upTo: 1 << 20)
                    return .success(StepResponse(
                        status: Int(answer.response.status.code), body: Array(bytes.readableBytesView),
                        retryAfterSeconds: IntegrationRetryPolicy.retryAfterSeconds(answer.response.headers.first(name: "Retry-After"))))
                } catch let refusal as IntegrationProxyRefusal {
                    return .failure(Self.stepFailure(refusal))
                } catch {
                    return .failure(.failed("the provider's answer is larger than 1 MiB or broke off"))
                }
            }
            group.addTask {
                // The step's deadline (the proxy's own per-attempt limit is longer).
                try? await Task.sleep(for: .seconds(timeoutSeconds))
                return Task.isCancelled ? nil : .failure(.unreachable("no answer within \(Int(timeoutSeconds * 1000)) ms"))
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(.cancelled)
        }
        return outcome
    }

    static func stepFailure(_ refusal: IntegrationProxyRefusal) -> StepCallFailure {
        let status = status(of: refusal)
        switch refusal {
        case .unreachable(let reason): return .unreachable(reason)
        case .timedOut: return .unreachable("the provider did not answer in time")
        case .rateLimited(let decision):
            return .refused(status: status, body: Array(#"{"error":"rate_limited"}"#.utf8), retryAfterSeconds: decision.retryAfterSeconds)
        case .providerUnavailable(let retryAfter):
            return .refused(status: status, body: Array(#"{"error":"service_unavailable"}"#.utf8), retryAfterSeconds: retryAfter)
        case .inactive: return .failed("the tenant has not activated this integration")
        case .needsReauth: return .failed("the integration needs new credentials (needs_reauth)")
        case .unknownIntegration(let name): return .failed("no integration named '\(name)'")
        case .secretsUnavailable(let reason): return .unreachable("the secret store is unavailable: \(reason)")
        case .badRequest(let detail): return .failed(detail)
        }
    }
}
