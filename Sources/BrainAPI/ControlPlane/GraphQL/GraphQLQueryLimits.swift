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

    /// The parsed document when it is within bounds; a GraphQL error naming the bound if not,
    /// or the parser's own syntax error.
    func parsedDocument(_ source: String) throws(GraphQLError) -> Document {
        guard source.utf8.count <= maxDocumentBytes else {
            throw Self.refusal("query_too_large", "the query document exceeds \(maxDocumentBytes) bytes")
        }
        guard Self.nesting(of: source, exceeds: maxNesting) == false else {
            throw Self.refusal("query_too_complex", "the query nests deeper than \(maxNesting) levels")
        }
        let document: Document
        do {
            document = try parse(source: source)
        } catch let error as GraphQLError {
            throw error
        } catch {
            throw GraphQLError(message: "\(error)")
        }
        var counter = FieldCounter(document: document, ceiling: maxFields + 1)
        var total = 0
        for case let operation as OperationDefinition in document.definitions {
            guard counter.rootFields(of: operation.selectionSet) <= maxRootFields else {
                throw Self.refusal("query_too_complex", "an operation asks for more than \(maxRootFields) top-level fields")
            }
            total = min(counter.ceiling, total + counter.fields(in: operation.selectionSet))
        }
        guard total <= maxFields else {
            throw Self.refusal("query_too_complex", "the query selects more than \(maxFields) fields")
        }
        return document
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

/// Counts field selections with fragments expanded where they are spread. Each fragment's count
/// is computed once (a chain of fragments each spreading the next twice would otherwise be
/// exponential work) and every sum saturates at `ceiling`. A fragment spread inside its own
/// expansion counts as nothing here; validation refuses the cycle afterwards.
private struct FieldCounter {
    let fragments: [String: FragmentDefinition]
    let ceiling: Int
    private var known: [String: Int] = [:]
    private var expanding: Set<String> = []

    init(document: Document, ceiling: Int) {
        var fragments: [String: FragmentDefinition] = [:]
        for case let fragment as FragmentDefinition in document.definitions {
            fragments[fragment.name.value] = fragment
        }
        self.fragments = fragments
        self.ceiling = ceiling
    }

    mutating func fields(in selectionSet: SelectionSet) -> Int {
        var count = 0
        for selection in selectionSet.selections {
            switch selection {
            case let field as Field:
                count += 1
                if let nested = field.selectionSet { count += fields(in: nested) }
            case let inline as InlineFragment:
                count += fields(in: inline.selectionSet)
            case let spread as FragmentSpread:
                count += fields(inFragment: spread.name.value)
            default:
                break
            }
            if count >= ceiling { return ceiling }
        }
        return count
    }

    mutating func rootFields(of selectionSet: SelectionSet) -> Int {
        var visited: Set<String> = []
        return rootFields(of: selectionSet, visited: &visited)
    }

    private mutating func rootFields(of selectionSet: SelectionSet, visited: inout Set<String>) -> Int {
        var count = 0
        for selection in selectionSet.selections {
            switch selection {
            case is Field:
                count += 1
            case let inline as InlineFragment:
                count += rootFields(of: inline.selectionSet, visited: &visited)
            case let spread as FragmentSpread:
                guard let fragment = fragments[spread.name.value], visited.insert(spread.name.value).inserted else { continue }
                count += rootFields(of: fragment.selectionSet, visited: &visited)
            default:
                break
            }
            if count >= ceiling { return ceiling }
        }
        return count
    }

    private mutating func fields(inFragment name: String) -> Int {
        if let count = known[name] { return count }
        guard let fragment = fragments[name], expanding.insert(name).inserted else { return 0 }
        let count = fields(in: fragment.selectionSet)
        expanding.remove(name)
        known[name] = count
        return count
    }
}
