import BrainDomain
import NIOCore

/// The optimiser's evidence stage: one service's sliding windows on one event loop — what its
/// clients saw (each exchange's status and duration) and what each instance answered (each
/// attempt). Outlives registry snapshots (a weight change publishes a new one), so the window
/// is not lost with them; touched only on its loop, so recording takes no lock.
final class ServiceEvidenceRecorder {
    final class InstanceWindow {
        var window: SlottedTrafficWindow
        init(window: SlottedTrafficWindow) { self.window = window }
    }

    private let windowNanoseconds: UInt64
    private(set) var service: SlottedTrafficWindow
    private var instances: [UpstreamInstance: InstanceWindow] = [:]

    init(windowNanoseconds: UInt64) {
        self.windowNanoseconds = windowNanoseconds
        self.service = SlottedTrafficWindow(windowNanoseconds: windowNanoseconds)
    }

    /// The window of `instance`, made on first use; a snapshot's `ServiceTraffic` keeps these
    /// by instance index so a request finds its window without hashing.
    func window(for instance: UpstreamInstance) -> InstanceWindow {
        if let known = instances[instance] { return known }
        let made = InstanceWindow(window: SlottedTrafficWindow(windowNanoseconds: windowNanoseconds))
        instances[instance] = made
        return made
    }

    /// An exchange of this service ended with `status` (0: no answer) after `nanoseconds`.
    func exchangeFinished(status: Int, nanoseconds: Int64, at now: NIODeadline) {
        service.record(error: TrafficSample.isError(status: status), microseconds: Int(nanoseconds / 1000), at: now.uptimeNanoseconds)
    }

    /// The window ending at `now`, for `instances` (the service's current ones).
    func sample(at now: NIODeadline, instances current: [UpstreamInstance]) -> ServiceTrafficSample {
        var sample = ServiceTrafficSample()
        sample.service = service.total(at: now.uptimeNanoseconds)
        for instance in current {
            if let window = instances[instance] { sample.instances[instance] = window.window.total(at: now.uptimeNanoseconds) }
        }
        // Instances no longer configured are forgotten.
        if instances.count > current.count { instances = instances.filter { current.contains($0.key) } }
        return sample
    }
}
