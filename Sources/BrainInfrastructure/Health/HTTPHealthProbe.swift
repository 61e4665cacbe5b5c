import AsyncHTTPClient
import BrainApplication
import BrainDomain
import NIOCore

/// Probes `GET {instance}{health_path}` with AsyncHTTPClient (off the hot path, so its
/// per-request cost does not matter). A 2xx answer within the timeout is healthy.
public struct HTTPHealthProbe: HealthProbe {
    private let client: HTTPClient

    public init(client: HTTPClient) {
        self.client = client
    }

    /// Why a probe failed, in words an operator reads on `/health` ("connection refused").
    public struct ProbeFailure: Error, CustomStringConvertible {
        public let description: String
    }

    public func probe(_ instance: UpstreamInstance, path: String, timeoutSeconds: Int) async throws -> Double {
        let started = ContinuousClock.now
        var request = HTTPClientRequest(url: instance.description + path)
        request.method = .GET
        request.headers.add(name: "User-Agent", value: "brain-gateway-health")
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(Int64(timeoutSeconds)))
        } catch {
            throw ProbeFailure(description: UpstreamErrorText.describe(error, timeoutSeconds: Double(timeoutSeconds)))
        }
        // Drain (bounded) so the connection can be reused.
        _ = try? await response.body.collect(upTo: 64 * 1024)
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        guard (200..<300).contains(response.status.code) else {
            throw ProbeFailure(description: UpstreamErrorText.answered(status: response.status.code))
        }
        return ms
    }
}
