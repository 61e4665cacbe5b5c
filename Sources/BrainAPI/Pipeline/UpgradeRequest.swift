import BrainInfrastructure
import NIOHTTP1

/// Protocol-upgrade recognition (RFC 9110 §7.8, RFC 6455 §4.1).
///
/// The request reader stops parsing a connection after any request that asks for an upgrade
/// (`Connection: upgrade` with an `Upgrade` field), so such a connection can never carry another
/// HTTP request: a WebSocket handshake becomes a tunnel, and any other upgrade request is
/// answered as a plain request and the connection closed.
enum UpgradeRequest {
    /// Whether the request asks for some protocol upgrade.
    static func asksForUpgrade(_ head: some RequestHeadReading) -> Bool {
        head.headers.contains(name: "upgrade") && connectionListsUpgrade(head.headers)
    }

    /// Whether the request is a WebSocket opening handshake.
    static func isWebSocket(_ head: some RequestHeadReading) -> Bool {
        guard head.method == .GET, connectionListsUpgrade(head.headers) else { return false }
        for value in head.headers[canonicalForm: "upgrade"] where value.utf8.count == 9 && String(value).equalsIgnoringASCIICase("websocket") {
            return true
        }
        return false
    }

    private static func connectionListsUpgrade(_ headers: some HeaderFieldReading) -> Bool {
        for token in headers[canonicalForm: "connection"] where token.utf8.count == 7 && String(token).equalsIgnoringASCIICase("upgrade") {
            return true
        }
        return false
    }
}
