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

func measure(_ directory: ServiceDirectory, services: Int, iterations: Int) throws -> Double {
    let uris = (0..<1024).map { "/service-\(($0 &* 7919) % services)/r\($0 % 10)/\($0)/items/x\($0)?q=1" }
    var matched = 0
    let clock = ContinuousClock()
    let elapsed = try clock.measure {
        for i in 0..<iterations {
            let target = try RequestTarget.parse(uris[i & 1023])
            if case .forward = directory.resolve(target, method: .get) { matched &+= 1 }
        }
    }
    precondition(matched == iterations, "every lookup must match")
    return Double(elapsed.components.attoseconds) / 1e9 / Double(iterations) + Double(elapsed.components.seconds) * 1e9 / Double(iterations)
}

let iterations = 2_000_000
let small = try makeDirectory(services: 13)
let large = try makeDirectory(services: 10_000)
_ = try measure(small, services: 13, iterations: 100_000)
let smallNs = try measure(small, services: 13, iterations: iterations)
let largeNs = try measure(large, services: 10_000, iterations: iterations)
print("route lookup (parse + service + trie), 13 services x 10 routes:     \(Int(smallNs + 0.5)) ns")
print("route lookup (parse + service + trie), 10,000 services x 10 routes: \(Int(largeNs + 0.5)) ns")
