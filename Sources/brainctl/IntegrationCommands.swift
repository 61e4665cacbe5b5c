import ArgumentParser
import Foundation

// MARK: integrations

struct Integrations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tenants' integrations: list, activate (store credentials), deactivate, and call a provider through the gateway.",
        subcommands: [List.self, Activate.self, Deactivate.self, Call.self])

    struct List: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "The catalogue with the tenant's status per integration.")
        @OptionGroup var connection: Connection

        func execute() async throws {
            guard let object = try await AdminClient.fetch("/api/brain/integrations", connection: connection) else { return }
            let entries = object["integrations"] as? [[String: Any]] ?? []
            Output.table(["NAME", "CATEGORY", "TIER", "STATUS", "CREDENTIALS"], entries.map { e in
                [Output.text(e["name"]), Output.text(e["category"]), Output.text(e["tier"]), Output.text(e["status"]), Output.text(e["credentials"])]
            })
        }
    }

    struct Activate: AdminCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store the tenant's credentials (verified by the provider first when the integration has a verify request).",
            discussion: "Values given with --set are visible to other local users in the process list; prefer --file (a JSON object of field: value) or --file - (standard input).")
        @OptionGroup var connection: Connection
        @Argument var name: String
        @Option(name: .customLong("set"), help: "field=value (repeatable).") var fields: [String] = []
        @Option(name: .shortAndLong, help: "A JSON object of field: value, or - for standard input.") var file: String?
        @Option(help: "platform-admin only: another base URL for this tenant (a sandbox).") var baseURL: String?

        func execute() async throws {
            var credentials: [String: Any] = [:]
            if let file {
                let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
                guard let data, let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                    throw Failure(description: "\(file) is not a JSON object of field: value")
                }
                credentials = object
            }
            for pair in fields {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else { throw Failure(description: "--set takes field=value, got '\(pair.prefix(40))'") }
                credentials[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            var body: [String: Any] = ["credentials": credentials]
            if let baseURL { body["base_url"] = baseURL }
            let reply = try await AdminClient.send(
                .PUT, "/api/brain/integrations/\(name)", body: try JSONSerialization.data(withJSONObject: body), connection: connection)
            try AdminClient.check(reply, [200])
            if connection.json { return Output.json(reply.body) }
            let object = reply.object as? [String: Any] ?? [:]
            print("\(name) \(Output.text(object["status"])) (\(Output.text(object["fingerprint"])))")
        }
    }

    struct Deactivate: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Erase the tenant's credentials for an integration.")
        @OptionGroup var connection: Connection
        @Argument var name: String

        func execute() async throws {
            let reply = try await AdminClient.send(.DELETE, "/api/brain/integrations/\(name)", connection: connection)
            try AdminClient.check(reply, [204])
            if connection.json { print("{\"deactivated\":\"\(name)\"}") } else { print("deactivated \(name)") }
        }
    }

    struct Call: AdminCommand {
        static let configuration = CommandConfiguration(
            abstract: "Call the provider through the gateway's proxy with the tenant's credentials; prints the answer's body (the status on standard error when it is not 2xx).")
        @OptionGroup var connection: Connection
        @Argument var name: String
        @Argument(help: "The provider path, e.g. /v1/balance?limit=1.") var path: String
        @Option(name: .shortAndLong, help: "HTTP method.") var method: String = "GET"
        @Option(name: .shortAndLong, help: "Request body (JSON).") var data: String?
        @Option(name: .customLong("header"), help: "Name: value (repeatable).") var headers: [String] = []

        func execute() async throws {
            let extra = try headers.map { header -> (String, String) in
                guard let colon = header.firstIndex(of: ":") else { throw Failure(description: "--header takes 'Name: value'") }
                return (String(header[..<colon]), header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            let path = path.hasPrefix("/") ? path : "/" + path
            let reply = try await AdminClient.send(
                .init(rawValue: method.uppercased()), "/api/brain/integrations/\(name)/proxy\(path)", body: data.map { Data($0.utf8) }, headers: extra,
                connection: connection)
            if connection.json { Output.json(reply.body) } else { print(String(decoding: reply.body, as: UTF8.self)) }
            guard (200...299).contains(reply.status) else {
                FileHandle.standardError.write(Data("brainctl: HTTP \(reply.status)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
