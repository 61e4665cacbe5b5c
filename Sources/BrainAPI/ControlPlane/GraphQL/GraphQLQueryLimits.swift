import GraphQL

/// Bounds on a GraphQL document, checked before it is validated and executed. GraphQL lets one
/// small request ask for a great deal: the parser recurses once per nesting level (a 1 MiB
/// document of `{a{a{…` overflowed the stack and killed the process), and aliases repeat a
/// field any number of times (15,000 aliased `events(limit: 1000)` in one request kept the
/// gateway busy for 76 s). The schema's real queries are a few levels deep and a few dozen
/// fields, so the bounds are far above them and far below harm. Like Apollo's and
/// graphql-java's depth and complexity limits, violations are GraphQL errors
/// (`extensions.code`), nothing runs.
struct GraphQLQueryLimits: Sendable {
    /// The document's size in bytes (variables are bounded by the body limit).
    var maxDocumentBytes = 32 * 1024
    /// Open brackets of any kind (`{`, `[`, `(`) at once, outside strings and comments.
    var maxNesting = 32
    /// Field selections in the document, aliases counted and fragments expanded where spread.
    var maxFields = 250
    /// Fields directly under an operation (fragments expanded): each may be a store query.
    var maxRootFields = 20

    /// Refuses a document beyond the bounds with a GraphQL error naming the bound; a syntax
    /// error is the parser's own. The document is parsed again by GraphQL's entry point, which
    /// takes source text: parsing ≤ 32 KiB is cheap next to validating and executing it, and the
    /// bounds must hold before validation, whose overlapping-field rule is quadratic.
    func check(_ source: String) throws {
        guard source.utf8.count <= maxDocumentBytes else {
            throw Self.refusal("query_too_large", "the query document exceeds \(maxDocumentBytes) bytes")
        }
        guard Self.nesting(of: source, exceeds: maxNesting) == false else {
            throw Self.refusal("query_too_complex", "the query nests deeper than \(maxNesting) levels")
        }
        let document = try parse(source: source)
        var counter = FieldCounter(document: document, ceiling: maxFields + 1)
        var total = 0
        for case let operation as OperationDefinition in document.definitions {
            guard counter.fields(in: operation.selectionSet, nested: false) <= maxRootFields else {
                throw Self.refusal("query_too_complex", "an operation asks for more than \(maxRootFields) top-level fields")
            }
            total = min(counter.ceiling, total + counter.fields(in: operation.selectionSet, nested: true))
        }
        guard total <= maxFields else {
            throw Self.refusal("query_too_complex", "the query selects more than \(maxFields) fields")
        }
    }

    private static func refusal(_ code: String, _ message: String) -> GraphQLError {
        GraphQLError(message: message, extensions: ["code": .string(code)])
    }

    /// Whether brackets nest deeper than `limit`, found by a lexical scan that skips strings,
    /// block strings and comments (the GraphQL lexer's rules), so no parser recursion happens
    /// before the depth is known.
    static func nesting(of source: String, exceeds limit: Int) -> Bool {
        let bytes = Array(source.utf8)
        var depth = 0
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "#"):
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n"), bytes[index] != UInt8(ascii: "\r") { index += 1 }
            case UInt8(ascii: "\""):
                if bytes[index...].starts(with: blockQuote) {
                    index += 3
                    while index < bytes.count, !bytes[index...].starts(with: blockQuote) {
                        index += bytes[index...].starts(with: escapedBlockQuote) ? 4 : 1
                    }
                    index += 2
                } else {
                    index += 1
                    while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\n") {
                        index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                    }
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "("):
                depth += 1
                if depth > limit { return true }
            case UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ")"):
                depth = max(0, depth - 1)
            default:
                break
            }
            index += 1
        }
        return false
    }

    private static let blockQuote = Array(#"""""#.utf8)
    private static let escapedBlockQuote = Array(#"\""""#.utf8)
}

/// Counts field selections with fragments expanded where they are spread — all levels, or only
/// the selection set's own (`nested: false`). Each fragment's count is computed once (a chain of
/// fragments each spreading the next twice would otherwise be exponential work) and every sum
/// saturates at `ceiling`. A fragment spread inside its own expansion counts as nothing here;
/// validation refuses the cycle afterwards.
private struct FieldCounter {
    private struct Key: Hashable {
        let fragment: String
        let nested: Bool
    }

    let fragments: [String: FragmentDefinition]
    let ceiling: Int
    private var known: [Key: Int] = [:]
    private var expanding: Set<Key> = []

    init(document: Document, ceiling: Int) {
        var fragments: [String: FragmentDefinition] = [:]
        for case let fragment as FragmentDefinition in document.definitions {
            fragments[fragment.name.value] = fragment
        }
        self.fragments = fragments
        self.ceiling = ceiling
    }

    mutating func fields(in selectionSet: SelectionSet, nested: Bool) -> Int {
        var count = 0
        for selection in selectionSet.selections {
            switch selection {
            case let field as Field:
                count += 1
                if nested, let inner = field.selectionSet { count += fields(in: inner, nested: true) }
            case let inline as InlineFragment:
                count += fields(in: inline.selectionSet, nested: nested)
            case let spread as FragmentSpread:
                count += fields(inFragment: Key(fragment: spread.name.value, nested: nested))
            default:
                break
            }
            if count >= ceiling { return ceiling }
        }
        return count
    }

    private mutating func fields(inFragment key: Key) -> Int {
        if let count = known[key] { return count }
        guard let fragment = fragments[key.fragment], expanding.insert(key).inserted else { return 0 }
        let count = fields(in: fragment.selectionSet, nested: key.nested)
        expanding.remove(key)
        known[key] = count
        return count
    }
}
