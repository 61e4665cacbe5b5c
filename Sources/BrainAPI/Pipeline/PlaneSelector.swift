import BrainDomain

/// Decides which side of the one port serves a request: the NIO data plane (`/{service}/…`)
/// or the Hummingbird control plane (the gateway's own reserved first segments and `/`).
public enum PlaneSelector {
    public enum Plane: Equatable { case data, control }

    /// The first segments the control plane owns — exactly the names no service may take
    /// (`ServiceName.reserved`). `plane(forURI:)` spells them out as literals for speed; a test
    /// keeps the three in agreement, and every path the control plane serves among them.
    public static let reservedSegments: Set<String> = ServiceName.reserved

    public static func plane(forURI uri: String) -> Plane {
        let utf8 = uri.utf8
        // Not origin-form ("*", "http://…") goes to the data plane, which refuses it with 400.
        guard utf8.first == UInt8(ascii: "/") else { return .data }
        let afterSlash = utf8.index(after: utf8.startIndex)
        var end = afterSlash
        while end != utf8.endIndex, utf8[end] != UInt8(ascii: "/"), utf8[end] != UInt8(ascii: "?") {
            end = utf8.index(after: end)
        }
        let first = Substring(uri)[afterSlash..<end]
        // `//x` is a data-plane path whose slashes RequestTarget merges; only `/` itself is ours.
        if first.isEmpty { return end == utf8.endIndex || utf8[end] == UInt8(ascii: "?") ? .control : .data }
        switch first {
        case "api", "health", "metrics", "graphql", "ws", "docs", "dashboard", "openapi.json", ".well-known":  // = reservedSegments
            return .control
        default:
            return .data
        }
    }
}
