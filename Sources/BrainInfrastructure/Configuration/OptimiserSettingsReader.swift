import BrainApplication
import BrainDomain
import Yams

/// `optimizer:` — the autonomous optimiser's mode, period, window, thresholds and bounds. Every
/// field is optional (the defaults are the seed's numbers) and checked: a bad value stops the
/// start naming its field, as everywhere else in the file.
struct OptimiserSettingsReader {
    private let nodes = ServiceFileLoader()

    func settings(_ node: Node, at path: String) throws(ConfigurationError) -> OptimiserSettings {
        let m = try nodes.mapping(node, at: path)
        try nodes.onlyKeys(m, [
            "mode", "interval_seconds", "window_seconds", "min_requests", "latency_p95_ms", "error_rate", "consecutive_windows",
            "max_weight_change_percent", "min_weight_percent", "cooldown_seconds", "optimization_agent", "self_healing_workflow",
        ], at: path)
        var settings = OptimiserSettings()
        if let n = m["mode"] {
            let text = try nodes.string(n, at: "\(path).mode")
            guard let mode = OptimiserMode(rawValue: text) else {
                throw ConfigurationError(field: "\(path).mode", reason: "must be one of act, dry_run, off")
            }
            settings.mode = mode
        }
        if let n = m["interval_seconds"] { settings.intervalSeconds = try number(n, at: "\(path).interval_seconds", in: 0.1...86_400) }
        if let n = m["window_seconds"] { settings.windowSeconds = try number(n, at: "\(path).window_seconds", in: 0.1...86_400) }
        if let n = m["min_requests"] { settings.minRequests = try nodes.integer(n, at: "\(path).min_requests", min: 1) }
        if let n = m["latency_p95_ms"] { settings.latencyP95Milliseconds = try number(n, at: "\(path).latency_p95_ms", in: 1...3_600_000) }
        if let n = m["error_rate"] { settings.errorRate = try number(n, at: "\(path).error_rate", in: 0...1) }
        if let n = m["consecutive_windows"] { settings.consecutiveWindows = try integer(n, at: "\(path).consecutive_windows", in: 1...100) }
        if let n = m["max_weight_change_percent"] {
            settings.maxWeightChangePercent = try integer(n, at: "\(path).max_weight_change_percent", in: 1...100)
        }
        if let n = m["min_weight_percent"] { settings.minWeightPercent = try integer(n, at: "\(path).min_weight_percent", in: 1...100) }
        if let n = m["cooldown_seconds"] { settings.cooldownSeconds = try number(n, at: "\(path).cooldown_seconds", in: 0...604_800) }
        if let n = m["optimization_agent"] {
            let name = try nodes.string(n, at: "\(path).optimization_agent")
            guard AgentRouter.isAgentName(name) else {
                throw ConfigurationError(field: "\(path).optimization_agent", reason: "must match [a-z][a-z0-9_-]* (at most 63 characters)")
            }
            settings.optimizationAgent = name
        }
        if let n = m["self_healing_workflow"] {
            let name = try nodes.string(n, at: "\(path).self_healing_workflow")
            guard (try? ServiceName(name)) != nil else { throw ConfigurationError(field: "\(path).self_healing_workflow", reason: "is not a workflow name") }
            settings.selfHealingWorkflow = name
        }
        return settings
    }

    private func number(_ node: Node, at path: String, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        guard let s = node.scalar, s.style == .plain, let value = Double(s.string), value.isFinite else {
            throw ConfigurationError(field: path, reason: "must be a number")
        }
        guard range.contains(value) else { throw ConfigurationError(field: path, reason: "must be \(Self.text(range.lowerBound))-\(Self.text(range.upperBound))") }
        return value
    }

    private func integer(_ node: Node, at path: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        let value = try nodes.integer(node, at: path, min: range.lowerBound)
        guard value <= range.upperBound else { throw ConfigurationError(field: path, reason: "must be \(range.lowerBound)-\(range.upperBound)") }
        return value
    }

    private static func text(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
