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

    public struct UnhealthyStatus: Error, CustomStringConvertible {
        public let status: UInt
        public var description: String { "health endpoint answered \(status)" }
    }

    public func probe(_ instance: UpstreamInstance, path: String, timeoutSeconds: Int) async throws -> Double {
        let started = ContinuousClock.now
        var request = HTTPClientRequest(url: instance.description + path)
        request.method = .GET
        request.headers.add(name: "User-Agent", value: "brain-gateway-health")
        let response = try await client.execute(request, timeout: .seconds(Int64(timeoutSeconds)))
        // Drain (bounded) so the connection can be reused.
        _ = try? await response.body.collect(upTo: 64 * 1024)
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        guard (200..<300).contains(response.status.code) else { throw UnhealthyStatus(status: response.status.code) }
        return ms
    }
}
