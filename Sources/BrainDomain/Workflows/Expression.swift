/// A workflow expression, parsed once when the workflow is defined and evaluated at run time
/// without any further parsing — so a mistake is refused when the workflow is saved, never
/// discovered in the middle of a run.
///
/// Grammar, loosest binding first:
///
///     conditional := or ("?" conditional ":" conditional)?
///     or          := and ("||" and)*
///     and         := equality ("&&" equality)*
///     equality    := comparison (("==" | "!=") comparison)*
///     comparison  := sum (("<" | "<=" | ">" | ">=") sum)*
///     sum         := unary ("+" unary)*
///     unary       := "!" unary | postfix
///     postfix     := primary ("." name | "[" integer "]")*
///     primary     := number | 'text' | "text" | true | false | null | root | "(" conditional ")"
///     root        := input | steps | run | caller
///
/// Semantics: a missing path is null; `==`/`!=` compare structurally; an ordering comparison is
/// false unless both sides are numbers or both are strings (so anything compared with null is
/// false); `&&`, `||`, `!` and `?:` go by truthiness (`JSONValue.isTruthy`) and `&&`/`||`
/// answer booleans; `+` adds two numbers and otherwise joins both sides' text.
public indirect enum Expression: Sendable, Equatable {
    case literal(JSONValue)
    case path(root: Root, [PathComponent])
    case not(Expression)
    case binary(BinaryOperator, Expression, Expression)
    case conditional(Expression, then: Expression, else: Expression)

    public enum Root: String, Sendable, CaseIterable {
        case input, steps, run, caller
    }

    public enum PathComponent: Sendable, Equatable {
        case member(String)
        case index(Int)
    }

    public enum BinaryOperator: String, Sendable {
        case or = "||", and = "&&", equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">"
        case greaterOrEqual = ">=", plus = "+"
    }

    /// Bounds that keep a hostile or mistaken expression from costing more than a small one.
    public struct Limits: Sendable {
        public var maxLength = 4096
        public var maxDepth = 32
        public var maxStringLiteral = 1024
        public var maxNumberLiteral = 32
        public var maxIndex = 1_000_000
        public static let `default` = Limits()
    }

    /// Why an expression was refused; `offset` counts UTF-8 bytes from its start.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public let offset: Int
        public var description: String { "\(reason) (at offset \(offset))" }
    }

    public static func parse(_ text: String, limits: Limits = .default) throws(ParseError) -> Expression {
        guard text.utf8.count <= limits.maxLength else {
            throw ParseError(reason: "the expression is longer than \(limits.maxLength) bytes", offset: limits.maxLength)
        }
        var parser = ExpressionParser(tokens: try ExpressionLexer.tokens(of: text, limits: limits), limits: limits)
        let expression = try parser.conditional(depth: 0)
        guard parser.atEnd else { throw parser.error("unexpected \(parser.currentDescription)") }
        return expression
    }

    /// The step ids the expression reads (`steps.<id>…`), for checking them when the workflow
    /// is defined.
    public var referencedSteps: Set<String> {
        switch self {
        case .literal: return []
        case .path(let root, let components):
            guard root == .steps, case .member(let id)? = components.first else { return [] }
            return [id]
        case .not(let e): return e.referencedSteps
        case .binary(_, let l, let r): return l.referencedSteps.union(r.referencedSteps)
        case .conditional(let c, let t, let e): return c.referencedSteps.union(t.referencedSteps).union(e.referencedSteps)
        }
    }

    /// The value of the expression, `scope` holding `input`, `steps`, `run` and `caller`.
    public func evaluate(in scope: JSONValue) -> JSONValue {
        switch self {
        case .literal(let value):
            return value
        case .path(let root, let components):
            var value = scope[root.rawValue]
            for component in components {
                switch component {
                case .member(let key): value = value[key]
                case .index(let i): value = value[i]
                }
            }
            return value
        case .not(let operand):
            return .bool(!operand.evaluate(in: scope).isTruthy)
        case .conditional(let condition, let then, let otherwise):
            return condition.evaluate(in: scope).isTruthy ? then.evaluate(in: scope) : otherwise.evaluate(in: scope)
        case .binary(let op, let lhs, let rhs):
            switch op {
            case .and: return .bool(lhs.evaluate(in: scope).isTruthy && rhs.evaluate(in: scope).isTruthy)
            case .or: return .bool(lhs.evaluate(in: scope).isTruthy || rhs.evaluate(in: scope).isTruthy)
            default: return Self.apply(op, lhs.evaluate(in: scope), rhs.evaluate(in: scope))
            }
        }
    }

    private static func apply(_ op: BinaryOperator, _ l: JSONValue, _ r: JSONValue) -> JSONValue {
        switch op {
        case .equal: return .bool(l == r)
        case .notEqual: return .bool(l != r)
        case .plus:
            if case .number(let a) = l, case .number(let b) = r { return .number(a + b) }
            return .string(l.text + r.text)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let order: Int
            switch (l, r) {
            case (.number(let a), .number(let b)): order = a < b ? -1 : (a == b ? 0 : 1)
            case (.string(let a), .string(let b)): order = a < b ? -1 : (a == b ? 0 : 1)
            default: return .bool(false)
            }
            switch op {
            case .less: return .bool(order < 0)
            case .lessOrEqual: return .bool(order <= 0)
            case .greater: return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case .and, .or:
            return .bool(false)  // handled with short-circuit by the caller
        }
    }
}

enum ExpressionToken: Equatable {
    case number(Double), string(String), name(String), symbol(String), end
}

/// Splits an expression into tokens, each with its UTF-8 offset.
enum ExpressionLexer {
    static func tokens(of text: String, limits: Expression.Limits) throws(Expression.ParseError) -> [(ExpressionToken, Int)] {
        let bytes = Array(text.utf8)
        var tokens: [(ExpressionToken, Int)] = []
        var i = 0
        func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        func isNameStart(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 }
        while i < bytes.count {
            let b = bytes[i]
            if b == 32 || b == 9 || b == 10 || b == 13 {
                i += 1
                continue
            }
            let start = i
            if isDigit(b) {
                while i < bytes.count, isDigit(bytes[i]) || bytes[i] == UInt8(ascii: ".") { i += 1 }
                guard i - start <= limits.maxNumberLiteral else {
                    throw Expression.ParseError(reason: "a number longer than \(limits.maxNumberLiteral) characters", offset: start)
                }
                let literal = String(decoding: bytes[start..<i], as: UTF8.self)
                guard let value = Double(literal), value.isFinite else {
                    throw Expression.ParseError(reason: "'\(literal)' is not a number", offset: start)
                }
                tokens.append((.number(value), start))
            } else if b == UInt8(ascii: "'") || b == UInt8(ascii: "\"") {
                i += 1
                var content: [UInt8] = []
                while i < bytes.count, bytes[i] != b {
                    if bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count {
                        i += 1
                    }
                    content.append(bytes[i])
                    i += 1
                    guard content.count <= limits.maxStringLiteral else {
                        throw Expression.ParseError(reason: "a text longer than \(limits.maxStringLiteral) bytes", offset: start)
                    }
                }
                guard i < bytes.count else { throw Expression.ParseError(reason: "unterminated text", offset: start) }
                i += 1
                tokens.append((.string(String(decoding: content, as: UTF8.self)), start))
            } else if isNameStart(b) {
                while i < bytes.count, isNameStart(bytes[i]) || isDigit(bytes[i]) || bytes[i] == UInt8(ascii: "-") { i += 1 }
                tokens.append((.name(String(decoding: bytes[start..<i], as: UTF8.self)), start))
            } else {
                let two = i + 1 < bytes.count ? String(decoding: bytes[i...(i + 1)], as: UTF8.self) : ""
                if ["==", "!=", "<=", ">=", "&&", "||"].contains(two) {
                    tokens.append((.symbol(two), start))
                    i += 2
                } else if "<>!+?:.()[]".utf8.contains(b) {
                    tokens.append((.symbol(String(UnicodeScalar(b))), start))
                    i += 1
                } else {
                    throw Expression.ParseError(reason: "unexpected character '\(String(decoding: [b], as: UTF8.self))'", offset: start)
                }
            }
        }
        tokens.append((.end, bytes.count))
        return tokens
    }
}

/// Recursive descent over the tokens, with a depth bound so deep nesting is refused instead of
/// exhausting the stack.
struct ExpressionParser {
    let tokens: [(ExpressionToken, Int)]
    let limits: Expression.Limits
    var position = 0

    init(tokens: [(ExpressionToken, Int)], limits: Expression.Limits) {
        self.tokens = tokens
        self.limits = limits
    }

    var current: ExpressionToken { tokens[position].0 }
    var atEnd: Bool { current == .end }
    var currentDescription: String {
        switch current {
        case .number(let n): "number \(JSONValue.numberText(n))"
        case .string: "text"
        case .name(let n): "'\(n)'"
        case .symbol(let s): "'\(s)'"
        case .end: "end of expression"
        }
    }

    func error(_ reason: String) -> Expression.ParseError {
        Expression.ParseError(reason: reason, offset: tokens[position].1)
    }

    mutating func accept(_ symbol: String) -> Bool {
        guard current == .symbol(symbol) else { return false }
        position += 1
        return true
    }

    mutating func expect(_ symbol: String) throws(Expression.ParseError) {
        guard accept(symbol) else { throw error("expected '\(symbol)' but found \(currentDescription)") }
    }

    func guardDepth(_ depth: Int) throws(Expression.ParseError) {
        guard depth <= limits.maxDepth else { throw error("the expression nests deeper than \(limits.maxDepth) levels") }
    }

    mutating func conditional(depth: Int) throws(Expression.ParseError) -> Expression {
        try guardDepth(depth)
        let condition = try binary(level: 0, depth: depth)
        guard accept("?") else { return condition }
        let then = try conditional(depth: depth + 1)
        try expect(":")
        let otherwise = try conditional(depth: depth + 1)
        return .conditional(condition, then: then, else: otherwise)
    }

    /// Binary operators by precedence level, loosest first.
    static let levels: [[Expression.BinaryOperator]] = [[.or], [.and], [.equal, .notEqual], [.less, .lessOrEqual, .greater, .greaterOrEqual], [.plus]]

    mutating func binary(level: Int, depth: Int) throws(Expression.ParseError) -> Expression {
        guard level < Self.levels.count else { return try unary(depth: depth) }
        var lhs = try binary(level: level + 1, depth: depth)
        while case .symbol(let s) = current, let op = Self.levels[level].first(where: { $0.rawValue == s }) {
            position += 1
            let rhs = try binary(level: level + 1, depth: depth)
            lhs = .binary(op, lhs, rhs)
        }
        return lhs
    }

    mutating func unary(depth: Int) throws(Expression.ParseError) -> Expression {
        try guardDepth(depth)
        if accept("!") { return .not(try unary(depth: depth + 1)) }
        return try postfix(depth: depth)
    }

    mutating func postfix(depth: Int) throws(Expression.ParseError) -> Expression {
        let start = position
        var expression = try primary(depth: depth)
        guard case .path(let root, var components) = expression else {
            if current == .symbol(".") || current == .symbol("[") { throw error("only input, steps, run and caller have fields") }
            return expression
        }
        while true {
            if accept(".") {
                guard case .name(let name) = current else { throw error("expected a field name after '.'") }
                position += 1
                components.append(.member(name))
            } else if accept("[") {
                guard case .number(let n) = current, let whole = JSONValue.wholeNumber(n), (0...Int64(limits.maxIndex)).contains(whole) else {
                    throw error("an index must be a whole number from 0 to \(limits.maxIndex)")
                }
                position += 1
                try expect("]")
                components.append(.index(Int(whole)))
            } else {
                break
            }
            guard components.count <= limits.maxDepth else {
                position = start
                throw error("a path longer than \(limits.maxDepth) parts")
            }
        }
        expression = .path(root: root, components)
        return expression
    }

    mutating func primary(depth: Int) throws(Expression.ParseError) -> Expression {
        switch current {
        case .number(let n):
            position += 1
            return .literal(.number(n))
        case .string(let s):
            position += 1
            return .literal(.string(s))
        case .name(let name):
            position += 1
            switch name {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "null": return .literal(.null)
            default:
                guard let root = Expression.Root(rawValue: name) else {
                    position -= 1
                    throw error("'\(name)' is not input, steps, run, caller or a literal")
                }
                return .path(root: root, [])
            }
        case .symbol("("):
            position += 1
            let inner = try conditional(depth: depth + 1)
            try expect(")")
            return inner
        default:
            throw error("expected a value but found \(currentDescription)")
        }
    }
}
