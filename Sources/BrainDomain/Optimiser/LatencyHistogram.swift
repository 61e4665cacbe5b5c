/// Latencies in log-scale buckets: sixteen per power of two of microseconds (each at most
/// 6.25 % wide), from 1 µs to about 134 s, the rest in the last. Recording is an integer
/// computation and an add (no floating point; the buckets are allocated at the first record, so
/// an idle window costs nothing); histograms from several event loops merge by adding their
/// buckets, and a quantile interpolates inside its bucket, so a p95 is within one bucket's width
/// (6.25 %) of the exact one — enough to compare against a threshold.
public struct LatencyHistogram: Sendable, Equatable {
    static let subBuckets = 16
    static let subBucketBits = 4
    static let octaves = 27
    static let bucketCount = (octaves + 1) * subBuckets

    public private(set) var buckets: [UInt32]
    public private(set) var count = 0
    /// Sum of the recorded latencies, for the mean.
    public private(set) var totalMicroseconds = 0

    public init() {
        buckets = []
    }

    public mutating func record(microseconds: Int) {
        let value = max(0, microseconds)
        if buckets.isEmpty { buckets = Array(repeating: 0, count: Self.bucketCount) }
        buckets[Self.bucket(value)] &+= 1
        count += 1
        totalMicroseconds &+= value
    }

    public mutating func add(_ other: LatencyHistogram) {
        guard other.count > 0 else { return }
        if buckets.isEmpty { buckets = Array(repeating: 0, count: Self.bucketCount) }
        for i in buckets.indices { buckets[i] &+= other.buckets[i] }
        count += other.count
        totalMicroseconds &+= other.totalMicroseconds
    }

    public mutating func reset() {
        guard count > 0 else { return }
        for i in buckets.indices { buckets[i] = 0 }
        count = 0
        totalMicroseconds = 0
    }

    /// Octave from the highest set bit, the next four bits pick the sub-bucket; values below
    /// 16 µs have a bucket each.
    static func bucket(_ microseconds: Int) -> Int {
        guard microseconds >= subBuckets else { return microseconds }
        let octave = (Int.bitWidth - 1) - microseconds.leadingZeroBitCount
        let sub = (microseconds >> (octave - subBucketBits)) & (subBuckets - 1)
        return min(bucketCount - 1, (octave - subBucketBits + 1) * subBuckets + sub)
    }

    /// The range of values bucket `index` holds, in microseconds.
    static func bounds(_ index: Int) -> (lower: Double, upper: Double) {
        guard index >= subBuckets else { return (Double(index), Double(index + 1)) }
        let octave = index / subBuckets + subBucketBits - 1
        let sub = index % subBuckets
        let width = Double(1 << (octave - subBucketBits))
        let lower = Double(1 << octave) + Double(sub) * width
        return (lower, lower + width)
    }

    /// The `q` quantile (0…1) in milliseconds; 0 when empty.
    public func quantileMilliseconds(_ q: Double) -> Double {
        guard count > 0 else { return 0 }
        // The rank, rounded up (integer arithmetic: the domain links no maths library).
        let exact = q * Double(count)
        var whole = Int(exact)
        if Double(whole) < exact { whole += 1 }
        let rank = Double(max(1, whole))
        var seen = 0.0
        for (index, n) in buckets.enumerated() where n > 0 {
            let inBucket = Double(n)
            if seen + inBucket >= rank {
                let (lower, upper) = Self.bounds(index)
                let fraction = (rank - seen) / inBucket
                return (lower + (upper - lower) * fraction) / 1000
            }
            seen += inBucket
        }
        return Self.bounds(Self.bucketCount - 1).upper / 1000
    }

    public var meanMilliseconds: Double { count == 0 ? 0 : Double(totalMicroseconds) / Double(count) / 1000 }
}

/// What one instance or service answered in a window: requests, errors (failures, 5xx and 429:
/// never counted as fast successes) and the latencies of the successful ones.
public struct TrafficSample: Sendable, Equatable {
    public var requests = 0
    public var errors = 0
    public var latencies = LatencyHistogram()

    public init() {}

    public mutating func record(error: Bool, microseconds: Int) {
        requests += 1
        if error { errors += 1 } else { latencies.record(microseconds: microseconds) }
    }

    public mutating func add(_ other: TrafficSample) {
        requests += other.requests
        errors += other.errors
        latencies.add(other.latencies)
    }

    public var errorRate: Double { requests == 0 ? 0 : Double(errors) / Double(requests) }
    public var p95Milliseconds: Double { latencies.quantileMilliseconds(0.95) }

    /// An answer is an error for the optimiser when the gateway could not get one (0), the
    /// upstream failed (5xx) or pushed back (429).
    public static func isError(status: Int) -> Bool { status == 0 || status == 429 || status >= 500 }
}

/// A sliding window of samples as a ring of time slots: recording touches the current slot
/// (reset when its time comes round again), reading sums the slots still inside the window.
/// One lives per service and instance per event loop, so recording takes no lock.
public struct SlottedTrafficWindow: Sendable {
    private struct Slot: Sendable {
        var number = Int.min
        var sample = TrafficSample()
    }

    /// Each slot's length in nanoseconds of the monotonic clock.
    public let slotNanoseconds: UInt64
    private var slots: [Slot]

    /// `windowNanoseconds` split into `slots` slots (the window read is accurate to one slot).
    public init(windowNanoseconds: UInt64, slots: Int = 10) {
        let count = max(2, slots)
        self.slotNanoseconds = max(1, windowNanoseconds / UInt64(count))
        self.slots = Array(repeating: Slot(), count: count)
    }

    public mutating func record(error: Bool, microseconds: Int, at uptimeNanoseconds: UInt64) {
        let number = Int(truncatingIfNeeded: uptimeNanoseconds / slotNanoseconds)
        let index = number % slots.count
        if slots[index].number != number {
            slots[index].number = number
            slots[index].sample.requests = 0
            slots[index].sample.errors = 0
            slots[index].sample.latencies.reset()
        }
        slots[index].sample.record(error: error, microseconds: microseconds)
    }

    /// The slots of the window ending at `uptimeNanoseconds`.
    public func total(at uptimeNanoseconds: UInt64) -> TrafficSample {
        let current = Int(truncatingIfNeeded: uptimeNanoseconds / slotNanoseconds)
        var total = TrafficSample()
        for slot in slots where slot.number > current - slots.count && slot.number <= current {
            total.add(slot.sample)
        }
        return total
    }
}

/// A registered service as the optimiser tracks it: its name and tenant (nil: platform-wide).
public struct ServiceKey: Hashable, Sendable, Comparable {
    public let name: ServiceName
    public let tenant: TenantID?

    public init(name: ServiceName, tenant: TenantID?) {
        self.name = name
        self.tenant = tenant
    }

    public static func < (lhs: ServiceKey, rhs: ServiceKey) -> Bool {
        (lhs.tenant?.value ?? "", lhs.name.value) < (rhs.tenant?.value ?? "", rhs.name.value)
    }
}

/// One service's window as the clients saw it (its exchanges) and as each instance answered
/// (attempts, retries included), summed over event loops.
public struct ServiceTrafficSample: Sendable, Equatable {
    public var service = TrafficSample()
    public var instances: [UpstreamInstance: TrafficSample] = [:]

    public init() {}

    public mutating func add(_ other: ServiceTrafficSample) {
        service.add(other.service)
        for (instance, sample) in other.instances { instances[instance, default: TrafficSample()].add(sample) }
    }
}
