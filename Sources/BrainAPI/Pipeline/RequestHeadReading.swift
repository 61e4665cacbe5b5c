import BrainInfrastructure
import NIOHTTP1

/// A request head as the stages read it.
public protocol RequestHeadReading {
    associatedtype Fields: HeaderFieldReading
    var method: HTTPMethod { get }
    var uri: String { get }
    var version: HTTPVersion { get }
    var isKeepAlive: Bool { get }
    var headers: Fields { get }
}

extension HTTPRequestHead: RequestHeadReading {}

/// A response head as the stages read it: the upstream's, parsed by `ResponseReader`, or
/// NIO's (a WebSocket handshake's refusal, tests).
public protocol ResponseHeadReading {
    associatedtype Fields: HeaderFieldReading
    var status: HTTPResponseStatus { get }
    var headers: Fields { get }
}

extension HTTPResponseHead: ResponseHeadReading {}
extension UpstreamResponseHead: ResponseHeadReading {}
