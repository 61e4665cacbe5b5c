// Measures registry lookup (service hash + route trie walk) with 10,000 services of 10 routes
// each, against the same with 13 services: the cost must not grow with the registry.
// Run by scripts/bench in a release build; prints nanoseconds per lookup.
import BrainDomain

func makeDirectory(services count: Int) throws -> ServiceDirectory {
    var services: [ServiceRoute] = []
    for s in 0..<count {
        var routes: [RouteDefinition] = []
        for r in 0..<10 {
            routes.append(RouteDefinition(pattern: try RoutePattern("/r\(r)/{id}/items/{item}"), methods: [.get, .post]))
        }
        services.append(try ServiceRoute(
            name: ServiceName("service-\(s)"), instances: [UpstreamInstance(scheme: .http, host: "127.0.0.1", port: 8000)],
            basePath: BasePath("/api/v1"), routes: routes))
    }
    return ServiceDirectory(services: services)
}

func measure(_ directory: ServiceDirectory, services: Int, iterations: Int) throws -> (parse: Double, lookup: Double) {
    let uris = (0..<1024).map { "/service-\(($0 &* 7919) % services)/r\($0 % 10)/\($0)/items/x\($0)?q=1" }
    let targets = try uris.map { try RequestTarget.parse($0) }
    let clock = ContinuousClock()
    var parsed = 0
    let parseTime = try clock.measure {
        for i in 0..<iterations where try RequestTarget.parse(uris[i & 1023]).service.utf8.count > 0 { parsed &+= 1 }
    }
    var matched = 0
    let lookupTime = clock.measure {
        for i in 0..<iterations {
            if case .forward = directory.resolve(targets[i & 1023], method: .get) { matched &+= 1 }
        }
    }
    precondition(matched == iterations && parsed == iterations, "every lookup must match")
    func ns(_ d: Duration) -> Double {
        (Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9) / Double(iterations)
    }
    return (ns(parseTime), ns(lookupTime))
}

let iterations = 2_000_000
let small = try makeDirectory(services: 13)
let large = try makeDirectory(services: 10_000)
_ = try measure(small, services: 13, iterations: 100_000)
let smallNs = try measure(small, services: 13, iterations: iterations)
let largeNs = try measure(large, services: 10_000, iterations: iterations)
print("request-target checks (parse, escape rules), per request:   \(Int(smallNs.parse + 0.5)) ns")
print("registry lookup, 13 services x 10 routes (service + trie):  \(Int(smallNs.lookup + 0.5)) ns")
print("registry lookup, 10,000 services x 10 routes:               \(Int(largeNs.lookup + 0.5)) ns")
