import Logging
import NIOHTTP1

/// Access-log stage: one structured line per request at `info`, with request id, method, path,
/// service, status, duration, bytes, and the caller's tenant and subject once authenticated. Costs nothing when the level is above `info`.
public struct AccessLog: Sendable {
    public let logger: Logger
    public let isEnabled: Bool

    public init(logger: Logger) {
        self.logger = logger
        self.isEnabled = logger.logLevel <= .info
    }

    public func record(
        requestID: String, method: HTTPMethod, path: String, service: String, status: UInt,
        durationSeconds: Double, bytesIn: Int64, bytesOut: Int64, error: String? = nil,
        tenant: String? = nil, subject: String? = nil
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
            "duration_ms": Self.milliseconds(durationSeconds),
            "bytes_in": .stringConvertible(bytesIn),
            "bytes_out": .stringConvertible(bytesOut),
        ]
        if let error { metadata["error"] = .string(error) }
        if let tenant { metadata["tenant_id"] = .string(tenant) }
        if let subject { metadata["subject"] = .string(subject) }
        logger.info("request", metadata: metadata)
    }

    /// The end of a WebSocket tunnel, whose request line was logged at its `101`: how long it
    /// lasted and the bytes each side sent through it (frames included, unparsed).
    public func recordTunnelClosed(requestID: String, service: String, durationSeconds: Double, bytesFromClient: Int64, bytesFromUpstream: Int64) {
        guard isEnabled else { return }
        logger.info("tunnel closed", metadata: [
            "request_id": .string(requestID),
            "service": .string(service),
            "duration_ms": Self.milliseconds(durationSeconds),
            "bytes_in": .stringConvertible(bytesFromClient),
            "bytes_out": .stringConvertible(bytesFromUpstream),
        ])
    }

    private static func milliseconds(_ seconds: Double) -> Logger.MetadataValue {
        .string(String(Int((seconds * 1000).rounded())))
    }
}
