import ArgumentParser
import Foundation

// MARK: optimizer

struct Optimizer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The autonomous optimiser: its state and decisions, pause, resume, one analysis now.",
        subcommands: [Status.self, Pause.self, Resume.self, Run.self])

    /// A decision as one table row.
    static func row(_ d: [String: Any]) -> [String] {
        let evidence = d["evidence"] as? [String: Any] ?? [:]
        let weight = d["from_weight"].map { "\(Output.text($0))→\(Output.text(d["to_weight"]))" } ?? "-"
        let at = (d["at"] as? Double).map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0)) } ?? "-"
        var outcome = Output.text(d["outcome"])
        if let run = d["run_id"] as? String { outcome += " run \(run)" }
        if let error = d["error"] as? String { outcome += ": \(error)" }
        return [at, Output.text(d["service"]), Output.text(d["rule"]), Output.text(d["action"]), Output.text(d["instance"]), weight,
                Output.text(evidence["p95_ms"]), Output.text(evidence["error_rate"]), Output.text(evidence["requests"]),
                Output.text(d["mode"]), outcome]
    }

    static let decisionHeader = ["AT", "SERVICE", "RULE", "ACTION", "INSTANCE", "WEIGHT", "P95_MS", "ERROR_RATE", "REQUESTS", "MODE", "OUTCOME"]

    static func printStatus(_ object: [String: Any]) {
        let paused = (object["paused"] as? Bool) == true
        print("mode \(Output.text(object["mode"]))\(paused ? " (paused)" : ""), every \(Output.text(object["interval_seconds"])) s over a \(Output.text(object["window_seconds"])) s window")
        let services = (object["services"] as? [String: [String: Any]] ?? [:]).sorted { $0.key < $1.key }
        if !services.isEmpty {
            print("")
            Output.table(["SERVICE", "REQUESTS", "ERROR_RATE", "P95_MS", "INCIDENTS", "WEIGHTS"], services.map { name, s in
                let incidents = (s["incidents"] as? [String: Bool] ?? [:]).filter(\.value).keys.sorted().joined(separator: ",")
                let weights = (s["instances"] as? [String: [String: Any]] ?? [:]).sorted { $0.key < $1.key }.map { url, i in
                    "\(url)=\(Output.text(i["weight"]))/\(Output.text(i["configured_weight"]))"
                }.joined(separator: " ")
                return [name, Output.text(s["requests"]), Output.text(s["error_rate"]), Output.text(s["p95_ms"]), incidents.isEmpty ? "-" : incidents, weights]
            })
        }
        let decisions = object["decisions"] as? [[String: Any]] ?? []
        print("")
        if decisions.isEmpty { print("no decisions yet") } else { Output.table(decisionHeader, decisions.prefix(30).map(row)) }
    }

    struct Status: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Mode, each service's latest window and weights, recent decisions.")
        @OptionGroup var connection: Connection

        func execute() async throws {
            guard let object = try await AdminClient.fetch("/api/brain/optimizer", connection: connection) else { return }
            Optimizer.printStatus(object)
        }
    }

    struct Pause: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the periodic analyses (this gateway process).")
        @OptionGroup var connection: Connection

        func execute() async throws { try await Optimizer.post("/api/brain/optimizer/pause", connection: connection, done: "optimiser paused") }
    }

    struct Resume: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Resume the periodic analyses.")
        @OptionGroup var connection: Connection

        func execute() async throws { try await Optimizer.post("/api/brain/optimizer/resume", connection: connection, done: "optimiser resumed") }
    }

    struct Run: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Run one analysis now (acting as the mode says) and show its decisions.")
        @OptionGroup var connection: Connection

        func execute() async throws {
            let reply = try await AdminClient.send(.POST, "/api/brain/optimize-platform", connection: connection)
            try AdminClient.check(reply, [200])
            if connection.json { return Output.json(reply.body) }
            let decisions = (reply.object as? [String: Any])?["decisions"] as? [[String: Any]] ?? []
            if decisions.isEmpty { print("no decisions") } else { Output.table(Optimizer.decisionHeader, decisions.map(Optimizer.row)) }
        }
    }

    static func post(_ path: String, connection: Connection, done: String) async throws {
        let reply = try await AdminClient.send(.POST, path, connection: connection)
        try AdminClient.check(reply, [200])
        if connection.json { Output.json(reply.body) } else { print(done) }
    }
}
