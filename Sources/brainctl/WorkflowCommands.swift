import ArgumentParser
import Foundation

// MARK: workflows

struct Workflows: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, show, apply and delete workflow definitions.", subcommands: [List.self, Get.self, Apply.self, Delete.self])

    struct List: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "List workflow definitions.")
        @OptionGroup var connection: Connection

        func execute() async throws {
            guard let object = try await AdminClient.fetch("/api/brain/workflows", connection: connection) else { return }
            let workflows = object["workflows"] as? [[String: Any]] ?? []
            Output.table(["NAME", "TENANT", "VERSION", "EXPOSE", "STEPS"], workflows.map { w in
                let expose = w["expose"] as? [String: Any]
                return [Output.text(w["name"]), Output.text(w["tenant_id"]), Output.text(w["version"]),
                        expose.map { "\(Output.text($0["method"] ?? "POST")) \(Output.text($0["path"]))" } ?? "-",
                        ((w["steps"] as? [[String: Any]]) ?? []).map { Output.text($0["id"]) }.joined(separator: ",")]
            })
        }
    }

    struct Get: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Show one workflow definition (as JSON).")
        @OptionGroup var connection: Connection
        @Argument var name: String

        func execute() async throws {
            let reply = try await AdminClient.send(.GET, "/api/brain/workflows/\(name)", connection: connection)
            try AdminClient.check(reply, [200])
            Output.json(reply.body)
        }
    }

    struct Apply: AdminCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or replace the workflows in a YAML file (a `workflows:` list, or one workflow document).")
        @OptionGroup var connection: Connection
        @Option(name: .shortAndLong, help: "YAML (or JSON) file.") var file: String

        func execute() async throws {
            let documents = try DocumentFile.documents(in: file, list: "workflows", kind: "workflow") { $0["steps"] != nil }
            try await DocumentFile.apply(documents, collection: "/api/brain/workflows", kind: "workflow", connection: connection)
        }
    }

    struct Delete: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a workflow definition (its runs stay).")
        @OptionGroup var connection: Connection
        @Argument var name: String
        @Option(help: "Only if the workflow is still at this ETag.") var ifMatch: String?

        func execute() async throws {
            let headers = ifMatch.map { [("If-Match", $0.hasPrefix("\"") ? $0 : "\"\($0)\"")] } ?? []
            let reply = try await AdminClient.send(.DELETE, "/api/brain/workflows/\(name)", headers: headers, connection: connection)
            try AdminClient.check(reply, [204])
            if connection.json { print("{\"deleted\":\"\(name)\"}") } else { print("deleted \(name)") }
        }
    }
}

// MARK: runs

struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List, show and start workflow runs.", subcommands: [List.self, Get.self, Start.self])

    struct List: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Runs, newest first.")
        @OptionGroup var connection: Connection
        @Option(help: "Only runs of this workflow.") var workflow: String?
        @Option(help: "running, succeeded, failed or timed_out.") var status: String?
        @Option(help: "At most this many (1-500).") var limit: Int?

        func execute() async throws {
            var query: [String] = []
            if let workflow { query.append("workflow=\(workflow)") }
            if let status { query.append("status=\(status)") }
            if let limit { query.append("limit=\(limit)") }
            let path = "/api/brain/runs" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
            guard let object = try await AdminClient.fetch(path, connection: connection) else { return }
            let runs = object["runs"] as? [[String: Any]] ?? []
            Output.table(["ID", "WORKFLOW", "STATUS", "STARTED", "MS", "FAILED STEP"], runs.map { r in
                [Output.text(r["id"]), Output.text(r["workflow"]), Output.text(r["status"]), Output.text(r["started_at"]),
                 Output.text(r["duration_ms"]), Output.text(r["failed_step"])]
            })
        }
    }

    struct Get: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Show one run and its step timeline.")
        @OptionGroup var connection: Connection
        @Argument var id: String

        func execute() async throws {
            guard let run = try await AdminClient.fetch("/api/brain/runs/\(id)", connection: connection) else { return }
            Runs.printRun(run)
        }
    }

    struct Start: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Run a workflow with a JSON input and print its answer.")
        @OptionGroup var connection: Connection
        @Argument var workflow: String
        @Option(help: "The input, as JSON text (default {}).") var input: String?
        @Option(help: "Idempotency-Key for the run.") var idempotencyKey: String?
        @Flag(help: "Answer at once (Prefer: respond-async) with the run's id.") var async = false

        func execute() async throws {
            var headers: [(String, String)] = []
            if let idempotencyKey { headers.append(("Idempotency-Key", idempotencyKey)) }
            if async { headers.append(("Prefer", "respond-async")) }
            let reply = try await AdminClient.send(.POST, "/api/brain/workflows/\(workflow)/runs", body: Data((input ?? "{}").utf8), headers: headers, connection: connection)
            // A failed run (502/504) is an answer worth printing, but the command still fails.
            if connection.json || reply.status == 502 || reply.status == 504 { Output.json(reply.body) }
            try AdminClient.check(reply, [200, 201, 202])
            if !connection.json {
                print("run \(reply.headers.first(name: "x-brain-run-id") ?? "-"): HTTP \(reply.status)")
                Output.json(reply.body)
            }
        }
    }

    static func printRun(_ run: [String: Any]) {
        for key in ["id", "workflow", "tenant_id", "status", "started_at", "finished_at", "duration_ms", "error", "failed_step"] {
            print("\(key.padding(toLength: 12, withPad: " ", startingAt: 0)) \(Output.text(run[key]))")
        }
        Output.table(["STEP", "STATE", "ATTEMPTS", "STATUS", "MS", "ERROR"], ((run["steps"] as? [[String: Any]]) ?? []).map { s in
            [Output.text(s["id"]), Output.text(s["state"]), Output.text(s["attempts"]), Output.text(s["status"]), Output.text(s["duration_ms"]), Output.text(s["error"])]
        })
    }
}

// MARK: agents

struct Agents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List agents and tiers, and run an agent.", subcommands: [List.self, Run.self])

    struct List: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "The crew tiers and the agents service's catalogue.")
        @OptionGroup var connection: Connection

        func execute() async throws {
            guard let object = try await AdminClient.fetch("/api/brain/agents", connection: connection) else { return }
            let tiers = object["tiers"] as? [String: [String]] ?? [:]
            Output.table(["TIER", "INTEGRATIONS"], tiers.keys.sorted().map { [$0, (tiers[$0] ?? []).joined(separator: ",")] })
            let agents = object["agents"] as? [Any] ?? []
            print("")
            Output.table(["AGENT"], agents.map { [Output.text(($0 as? [String: Any])?["name"] ?? $0)] })
            if let error = object["catalog_error"] as? String { print("catalogue unavailable: \(error)") }
        }
    }

    struct Run: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Run an agent (or an integration's crew) with JSON data.")
        @OptionGroup var connection: Connection
        @Argument var name: String
        @Argument var action: String
        @Option(help: "The data, as JSON text (default {}).") var data: String?
        @Flag(help: "Answer at once (Prefer: respond-async) with the run's id.") var async = false

        func execute() async throws {
            let headers = async ? [("Prefer", "respond-async")] : []
            let reply = try await AdminClient.send(.POST, "/api/brain/agents/\(name)/\(action)", body: Data((data ?? "{}").utf8), headers: headers, connection: connection)
            try AdminClient.check(reply, [200, 201, 202, 204])
            if !connection.json {
                print("pattern \(reply.headers.first(name: "x-brain-agent-pattern") ?? "-"), run \(reply.headers.first(name: "x-brain-run-id") ?? "-"): HTTP \(reply.status)")
            }
            Output.json(reply.body)
        }
    }
}
