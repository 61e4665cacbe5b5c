import Testing
@testable import BrainDomain

@Suite struct RoutePatternTests {
    @Test func parsesLiteralAndParameterSegments() throws {
        let p = try RoutePattern("/campaigns/{id}/report")
        #expect(p.segments == [.literal("campaigns"), .parameter("id"), .literal("report")])
        #expect(p.description == "/campaigns/{id}/report")
    }

    @Test func rootPatternHasNoSegments() throws {
        #expect(try RoutePattern("/").segments.isEmpty)
    }

    @Test func refusesMalformedPatterns() {
        #expect(throws: RoutePattern.ParseError.mustStartWithSlash) { try RoutePattern("campaigns") }
        #expect(throws: RoutePattern.ParseError.emptySegment) { try RoutePattern("/a//b") }
        #expect(throws: RoutePattern.ParseError.invalidParameter("{id")) { try RoutePattern("/{id") }
        #expect(throws: RoutePattern.ParseError.invalidParameter("x{id}")) { try RoutePattern("/x{id}") }
        #expect(throws: RoutePattern.ParseError.duplicateParameter("id")) { try RoutePattern("/{id}/{id}") }
        #expect(throws: RoutePattern.ParseError.dotSegment) { try RoutePattern("/a/../b") }
    }
}

@Suite struct RouteTrieTests {
    func route(_ path: String, _ methods: Set<HttpMethod> = [], roles: [String] = []) throws -> RouteDefinition {
        RouteDefinition(pattern: try RoutePattern(path), methods: methods, roles: roles)
    }

    @Test func matchesParametersAndPrefersLiterals() throws {
        let byID = try route("/campaigns/{id}", [.get])
        let new = try route("/campaigns/new", [.get])
        let trie = RouteTrie(routes: [byID, new])
        #expect(trie.match(path: "/campaigns/42", method: .get) == .matched(byID))
        #expect(trie.match(path: "/campaigns/new", method: .get) == .matched(new))
        #expect(trie.match(path: "/campaigns/42/", method: .get) == .matched(byID))
        #expect(trie.match(path: "/campaigns", method: .get) == .notFound)
        #expect(trie.match(path: "/campaigns/42/x", method: .get) == .notFound)
    }

    @Test func backtracksFromLiteralDeadEndToParameter() throws {
        let deep = try route("/a/{x}/c")
        let literal = try route("/a/b/d")
        let trie = RouteTrie(routes: [deep, literal])
        #expect(trie.match(path: "/a/b/c", method: .get) == .matched(deep))
        #expect(trie.match(path: "/a/b/d", method: .get) == .matched(literal))
    }

    @Test func distinguishesMethodNotAllowed() throws {
        let trie = RouteTrie(routes: [try route("/items/{id}", [.get, .put])])
        #expect(trie.match(path: "/items/1", method: .put) != .notFound)
        #expect(trie.match(path: "/items/1", method: .delete) == .methodNotAllowed)
    }

    @Test func emptyMethodSetAllowsEveryMethod() throws {
        let any = try route("/x")
        let trie = RouteTrie(routes: [any])
        #expect(trie.match(path: "/x", method: .other("PROPFIND")) == .matched(any))
    }

    @Test func tenThousandServicesResolveToTheRightRoute() throws {
        var services: [ServiceRoute] = []
        for s in 0..<10_000 {
            var routes: [RouteDefinition] = []
            for r in 0..<10 { routes.append(try route("/r\(r)/{id}/leaf\(s % 7)", [.get])) }
            services.append(try ServiceRoute(
                name: ServiceName("svc\(s)"), instances: [UpstreamInstance(scheme: .http, host: "127.0.0.1", port: 1000 + s % 1000)],
                basePath: BasePath("/b\(s)"), routes: routes))
        }
        let directory = ServiceDirectory(services: services)
        for s in stride(from: 0, to: 10_000, by: 997) {
            let target = try RequestTarget.parse("/svc\(s)/r9/abc/leaf\(s % 7)?q=1")
            guard case .forward(let entry, let matched) = directory.resolve(target, method: .get) else {
                Issue.record("svc\(s) not resolved"); continue
            }
            #expect(entry.service.name.value == "svc\(s)")
            #expect(matched?.pattern.description == "/r9/{id}/leaf\(s % 7)")
            #expect(target.upstreamURI(base: entry.service.basePath) == "/b\(s)/r9/abc/leaf\(s % 7)?q=1")
        }
        let miss = try RequestTarget.parse("/svc5/r9/abc/nope")
        if case .unknownRoute = directory.resolve(miss, method: .get) {} else { Issue.record("expected unknownRoute") }
        if case .unknownService = directory.resolve(try RequestTarget.parse("/svc10000/x"), method: .get) {} else { Issue.record("expected unknownService") }
    }
}

@Suite struct RequestTargetTests {
    @Test func splitsServicePathAndQuery() throws {
        let t = try RequestTarget.parse("/ai-agents/campaigns/123?x=%2F&y=a+b&y=&z")
        #expect(t.service == "ai-agents")
        #expect(t.path == "/campaigns/123")
        #expect(t.query == "?x=%2F&y=a+b&y=&z")
        #expect(t.upstreamURI(base: try BasePath("/api/v1/agents")) == "/api/v1/agents/campaigns/123?x=%2F&y=a+b&y=&z")
    }

    @Test func joiningNeverDoublesSlashes() throws {
        let root = BasePath.root
        #expect(try RequestTarget.parse("/s").upstreamURI(base: root) == "/")
        #expect(try RequestTarget.parse("/s?q").upstreamURI(base: root) == "/?q")
        #expect(try RequestTarget.parse("/s/").upstreamURI(base: root) == "/")
        #expect(try RequestTarget.parse("/s/a").upstreamURI(base: try BasePath("/v1/")) == "/v1/a")
        #expect(try RequestTarget.parse("/s").upstreamURI(base: try BasePath("/v1")) == "/v1")
        #expect(try RequestTarget.parse("/s//a///b").upstreamURI(base: try BasePath("/v1")) == "/v1/a/b")
    }

    @Test(arguments: [
        "/s/../x", "/s/./x", "/s/..", "/s/%2e%2e/x", "/s/%2E%2E", "/s/.%2e/x", "/s/%2e/x",
        "/s/%252e%252e/x", "/s/%252E%252E", "/..", "/s/a/../../x",
    ])
    func dotSegmentsNeverLeaveBasePath(_ uri: String) {
        #expect(throws: RequestTarget.Rejection.dotSegment) { try RequestTarget.parse(uri) }
    }

    @Test(arguments: ["/s/a%2Fb", "/s/a%2fb", "/s/%5C..", "/s/%252F", "/s/%255c"])
    func encodedSeparatorsAreRefused(_ uri: String) {
        #expect(throws: RequestTarget.Rejection.encodedSeparator) { try RequestTarget.parse(uri) }
    }

    @Test func backslashesAreRefused() {
        #expect(throws: RequestTarget.Rejection.backslash) { try RequestTarget.parse("/s/..\\x") }
        #expect(throws: RequestTarget.Rejection.backslash) { try RequestTarget.parse("/s/a\\b") }
    }

    @Test func otherHostsCannotBeNamed() throws {
        #expect(throws: RequestTarget.Rejection.notOriginForm) { try RequestTarget.parse("http://evil.example/x") }
        #expect(throws: RequestTarget.Rejection.notOriginForm) { try RequestTarget.parse("*") }
        // `//host/x` merges to `/host/x`: "host" is looked up as a service name, never a host.
        let t = try RequestTarget.parse("//evil.example/x")
        #expect(t.service == "evil.example")
        #expect(t.upstreamURI(base: .root) == "/x")
    }

    @Test func malformedEncodingAndControlCharactersAreRefused() {
        #expect(throws: RequestTarget.Rejection.invalidPercentEncoding) { try RequestTarget.parse("/s/%zz") }
        #expect(throws: RequestTarget.Rejection.invalidPercentEncoding) { try RequestTarget.parse("/s/%4") }
        #expect(throws: RequestTarget.Rejection.controlCharacter) { try RequestTarget.parse("/s/a%00b") }
        #expect(throws: RequestTarget.Rejection.controlCharacter) { try RequestTarget.parse("/s/a%0d%0aX:y") }
        #expect(throws: RequestTarget.Rejection.invalidUTF8) { try RequestTarget.parse("/s/%ff%fe") }
        #expect(throws: RequestTarget.Rejection.invalidUTF8) { try RequestTarget.parse("/s/%c0%af") }
    }

    @Test func harmlessEncodingsPassUnchanged() throws {
        let t = try RequestTarget.parse("/s/caf%C3%A9/a%20b/..a/a..")
        #expect(t.upstreamURI(base: .root) == "/caf%C3%A9/a%20b/..a/a..")
    }
}
