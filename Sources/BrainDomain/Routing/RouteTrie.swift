/// A segment trie over one service's route patterns.
///
/// Matching walks one node per path segment, so its cost depends on the request path's length,
/// never on how many routes or services exist. Literal children are preferred to a parameter
/// child at the same depth (`/campaigns/new` beats `/campaigns/{id}`), with backtracking so a
/// literal dead end still falls back to the parameter branch.
public struct RouteTrie: Sendable {
    final class Node: Sendable {
        let literals: [PathSegmentKey: Node]
        let parameter: Node?
        /// Routes ending at this node, in registration order.
        let routes: [RouteDefinition]

        init(literals: [PathSegmentKey: Node], parameter: Node?, routes: [RouteDefinition]) {
            self.literals = literals
            self.parameter = parameter
            self.routes = routes
        }
    }

    /// Mutable builder; the built trie is immutable so readers need no locks.
    private final class Builder {
        var literals: [PathSegmentKey: Builder] = [:]
        var parameter: Builder?
        var routes: [RouteDefinition] = []

        func insert(_ route: RouteDefinition, from index: Int) {
            let segments = route.pattern.segments
            if index == segments.count {
                routes.append(route)
                return
            }
            switch segments[index] {
            case .literal(let text):
                let key = PathSegmentKey(Substring(text))
                let child = literals[key] ?? Builder()
                literals[key] = child
                child.insert(route, from: index + 1)
            case .parameter:
                let child = parameter ?? Builder()
                parameter = child
                child.insert(route, from: index + 1)
            }
        }

        func build() -> Node {
            Node(literals: literals.mapValues { $0.build() }, parameter: parameter?.build(), routes: routes)
        }
    }

    private let root: Node
    public let isEmpty: Bool

    public init(routes: [RouteDefinition]) {
        let builder = Builder()
        for route in routes { builder.insert(route, from: 0) }
        self.root = builder.build()
        self.isEmpty = routes.isEmpty
    }

    public enum Match: Equatable, Sendable {
        case matched(RouteDefinition)
        /// The path matches a pattern but not for this method.
        case methodNotAllowed
        case notFound
    }

    /// Matches `path`, the request path after the service segment (`/campaigns/12`, or empty).
    /// Walks the path in place: no array of segments is allocated per request.
    public func match(path: Substring, method: HttpMethod) -> Match {
        var sawPath = false
        var rest = path
        if rest.utf8.first == UInt8(ascii: "/") { rest = rest[rest.utf8.index(after: rest.utf8.startIndex)...] }
        // The walk hands back the node and index, so the route is copied once, not per level.
        if let (node, index) = Self.walk(root, rest, method: method, sawPath: &sawPath) {
            return .matched(node.routes[index])
        }
        return sawPath ? .methodNotAllowed : .notFound
    }

    private static func walk(_ node: Node, _ rest: Substring, method: HttpMethod, sawPath: inout Bool) -> (Node, Int)? {
        if rest.isEmpty {
            if !node.routes.isEmpty { sawPath = true }
            return node.routes.firstIndex { $0.allows(method) }.map { (node, $0) }
        }
        let segment: Substring
        let remaining: Substring
        let utf8 = rest.utf8
        if let slash = utf8.firstIndex(of: UInt8(ascii: "/")) {
            segment = rest[..<slash]
            remaining = rest[utf8.index(after: slash)...]
        } else {
            segment = rest
            remaining = rest[rest.endIndex...]
        }
        if let child = node.literals[PathSegmentKey(segment)], let found = walk(child, remaining, method: method, sawPath: &sawPath) {
            return found
        }
        if let child = node.parameter, !segment.isEmpty {
            return walk(child, remaining, method: method, sawPath: &sawPath)
        }
        return nil
    }
}

/// A path segment as a dictionary key, hashed and compared by its bytes. `Substring`'s own
/// `Hashable` compares Unicode canonical equivalence, which is slower and wrong for paths:
/// two differently encoded segments are different segments.
public struct PathSegmentKey: Hashable, Sendable {
    let text: Substring

    public init(_ text: Substring) { self.text = text }

    public static func == (lhs: PathSegmentKey, rhs: PathSegmentKey) -> Bool {
        lhs.text.utf8.elementsEqual(rhs.text.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
