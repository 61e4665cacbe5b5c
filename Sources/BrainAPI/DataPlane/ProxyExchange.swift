import BrainDomain
import BrainInfrastructure
import NIOCore
import NIOHTTP1

/// One proxied request from its head to the last byte of its response: the facts decided by
/// the pipeline stages and the progress of both sides. Owned by one `DataPlaneHandler` and
/// touched only on its event loop.
final class ProxyExchange {
    let clientHead: HTTPRequestHead
    let requestID: String
    let service: ServiceRoute
    let upstreamURI: String
    let keepAlive: Bool
    let retryable: Bool
    let startedAt: NIODeadline
    /// The tenant the request acts for (nil on a public path).
    let tenant: TenantID?
    /// The verified caller (nil on a public path).
    let principal: Principal?

    /// Attempts made so far (1 after the first).
    var attempt = 0
    var instance: UpstreamInstance?
    var connection: UpstreamConnection?
    /// A connection is being opened for this exchange.
    var connecting = false
    /// Body parts received but not yet written upstream.
    var pending: [ByteBuffer] = []
    /// Every body part already written upstream, kept while small so a retry can resend them;
    /// nil once the body outgrew the replay limit.
    var replay: [ByteBuffer]? = []
    var replayBytes = 0

    var requestEnded = false
    var responseStarted = false
    var responseEnded = false
    var finished = false
    var upstreamNeedsFlush = false

    var status: UInt = 0
    var bytesIn: Int64 = 0
    var bytesOut: Int64 = 0
    var timeout: Scheduled<Void>?

    init(
        clientHead: HTTPRequestHead, requestID: String, service: ServiceRoute, upstreamURI: String, keepAlive: Bool,
        retryable: Bool, startedAt: NIODeadline, tenant: TenantID?, principal: Principal?
    ) {
        self.tenant = tenant
        self.principal = principal
        self.clientHead = clientHead
        self.requestID = requestID
        self.service = service
        self.upstreamURI = upstreamURI
        self.keepAlive = keepAlive
        self.retryable = retryable
        self.startedAt = startedAt
    }

    /// Remembers a body part for a possible retry, or gives up replay when it gets too big.
    func keepForReplay(_ buffer: ByteBuffer, limit: Int) {
        guard replay != nil else { return }
        replayBytes += buffer.readableBytes
        if replayBytes > limit {
            replay = nil
        } else {
            replay?.append(buffer)
        }
    }
}
