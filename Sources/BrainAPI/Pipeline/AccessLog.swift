import Logging
import NIOHTTP1

/// Access-log stage: one structured line per request at `info`, with request id, method, path,
/// service, status, duration and bytes. Costs nothing when the level is above `info`.
public struct AccessLog: Sendable {
    public let logger: Logger
    public let isEnabled: Bool

    public init(logger: Logger) {
        self.logger = logger
        self.isEnabled = logger.logLevel <= .info
    }

    public func record(
        requestID: String, method: HTTPMethod, path: String, service: String, status: UInt,
        durationSeconds: Double, bytesIn: Int64, bytesOut: Int64, error: String? = nil
    ) {
        guard isEnabled else { return }
        // The query string is left out: it often carries tokens.
        let pathOnly = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? path
        var metadata: Logger.Metadata = [
            "request_id": .string(requestID),
            "method": .string(method.rawValue),
            "path": .string(pathOnly),
            "service": .string(service),
            "status": .stringConvertible(status),
            "duration_ms": .string(String(Int((durationSeconds * 1000).rounded()))),
            "bytes_in": .stringConvertible(bytesIn),
            "bytes_out": .stringConvertible(bytesOut),
        ]
        if let error { metadata["error"] = .string(error) }
        logger.info("request", metadata: metadata)
    }
}
