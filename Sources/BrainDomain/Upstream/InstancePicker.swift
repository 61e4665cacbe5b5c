/// Load-balancer stage, in its simplest correct form: round robin over the service's
/// instances, skipping the one that just failed when retrying. One per event loop (it lives
/// with that loop's connection pool), so it needs no lock and spreads new connections and
/// requests alike.
public struct InstancePicker {
    private var counter = 0

    public init() {}

    public mutating func pick(from instances: [UpstreamInstance], excluding failed: UpstreamInstance?) -> UpstreamInstance {
        counter &+= 1
        let start = counter % instances.count
        if let failed, instances.count > 1 {
            for offset in 0..<instances.count {
                let candidate = instances[(start + offset) % instances.count]
                if candidate != failed { return candidate }
            }
        }
        return instances[start]
    }
}
