import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Yams

/// `brainctl`: the admin API from a terminal. Gateway URL and token come from `--url`/`--token`
/// or `BRAIN_GATEWAY_URL`/`BRAIN_GATEWAY_TOKEN`; output is a table for people, `--json` for
/// scripts; every failure is one line on stderr and exit code 1.
@main
struct BrainCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brainctl",
        abstract: "Administer a Brain Gateway through its admin API.",
        subcommands: [Services.self, Routes.self, Workflows.self, Runs.self, Agents.self, Integrations.self, Optimizer.self, Health.self, Events.self, Metrics.self])
}

struct Connection: ParsableArguments {
    @Option(help: "Gateway base URL (env BRAIN_GATEWAY_URL, default http://127.0.0.1:8001).")
    var url: String?
    @Option(help: "platform-admin bearer token (env BRAIN_GATEWAY_TOKEN).")
    var token: String?
    @Option(name: .customLong("tenant"), help: "Act within this tenant (X-Tenant-ID).")
    var tenant: String?
    @Flag(help: "Print the API's JSON instead of a table.")
    var json = false

    var baseURL: String {
        let value = url ?? ProcessInfo.processInfo.environment["BRAIN_GATEWAY_URL"] ?? "http://127.0.0.1:8001"
        return value.hasSuffix("/") ? String(value.dropLast()) : value
    }
    var bearer: String? { token ?? ProcessInfo.processInfo.environment["BRAIN_GATEWAY_TOKEN"] }
}

/// One line, exit 1.
struct Failure: Error, CustomStringConvertible {
    let description: String
}

enum AdminClient {
    /// A refused connection is reported at once (AsyncHTTPClient would otherwise keep retrying
    /// until the request's deadline).
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    struct Reply {
        let status: Int
        let headers: HTTPHeaders
        let body: Data
        var object: Any? { try? JSONSerialization.jsonObject(with: body) }
    }

    static func send(_ method: HTTPMethod, _ path: String, body: Data? = nil, headers extra: [(String, String)] = [], connection: Connection) async throws -> Reply {
        var request = HTTPClientRequest(url: connection.baseURL + path)
        request.method = method
        if let bearer = connection.bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let tenant = connection.tenant { request.headers.add(name: "X-Tenant-ID", value: tenant) }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await AdminClient.http.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 64 << 20)
            return Reply(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView))
        } catch {
            throw Failure(description: "cannot reach \(connection.baseURL): \(error)")
        }
    }

    /// GETs `path` expecting 200. With `--json` the body is printed as it came and nil
    /// returned; otherwise the parsed object, for a table.
    static func fetch(_ path: String, connection: Connection) async throws -> [String: Any]? {
        let reply = try await send(.GET, path, connection: connection)
        try check(reply, [200])
        if connection.json {
            Output.json(reply.body)
            return nil
        }
        return reply.object as? [String: Any] ?? [:]
    }

    /// Throws the API's error as one line unless the status is expected.
    static func check(_ reply: Reply, _ expected: Set<Int>) throws {
        guard !expected.contains(reply.status) else { return }
        let object = reply.object as? [String: Any]
        var line = "HTTP \(reply.status)"
        if let code = object?["error"] as? String { line += " \(code)" }
        if let field = object?["field"] as? String { line += " (field \(field))" }
        if let detail = object?["detail"] as? String { line += ": \(detail)" }
        throw Failure(description: line)
    }
}

enum Output {
    static func json(_ data: Data) {
        if let object = try? JSONSerialization.jsonObject(with: data),
           let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) {
            print(String(decoding: pretty, as: UTF8.self))
        } else {
            print(String(decoding: data, as: UTF8.self))
        }
    }

    /// A plain left-aligned table.
    static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }

    static func text(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: "-"
        case let s as String: s
        case let n as NSNumber: n.stringValue
        case let list as [Any]: list.map { text($0) }.joined(separator: ",")
        default: "\(value!)"
        }
    }
}

protocol AdminCommand: AsyncParsableCommand {
    var connection: Connection { get }
    func execute() async throws
}

extension AdminCommand {
    func run() async throws {
        do {
            try await execute()
        } catch let failure as Failure {
            FileHandle.standardError.write(Data("brainctl: \(failure)\n".utf8))
            throw ExitCode(1)
        }
    }
}

// MARK: services

struct Services: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, show, apply and delete services.", subcommands: [List.self, Get.self, Apply.self, Delete.self])

    struct List: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "List services with their live status.")
        @OptionGroup var connection: Connection

        func execute() async throws {
            guard let object = try await AdminClient.fetch("/api/brain/services", connection: connection) else { return }
            let services = object["services"] as? [[String: Any]] ?? []
            Output.table(["NAME", "TENANT", "STATUS", "INSTANCES", "BASE PATH", "ROUTES"], services.map { s in
                [Output.text(s["name"]), Output.text(s["tenant_id"]), Output.text(s["status"]),
                 (s["instances"] as? [Any])?.map { ($0 as? [String: Any])?["url"].map(Output.text) ?? Output.text($0) }.joined(separator: ",") ?? "-",
                 Output.text(s["base_path"]), String((s["routes"] as? [Any])?.count ?? 0)]
            })
        }
    }

    struct Get: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Show one service document.")
        @OptionGroup var connection: Connection
        @Argument var name: String

        func execute() async throws {
            let reply = try await AdminClient.send(.GET, "/api/brain/services/\(name)", connection: connection)
            try AdminClient.check(reply, [200])
            if connection.json { return Output.json(reply.body) }
            let s = reply.object as? [String: Any] ?? [:]
            let etag = reply.headers.first(name: "etag") ?? "-"
            for key in ["name", "tenant_id", "status", "instances", "base_path", "health_path", "timeout_ms", "load_balancing"] {
                print("\(key.padding(toLength: 15, withPad: " ", startingAt: 0)) \(Output.text(s[key]))")
            }
            print("\("etag".padding(toLength: 15, withPad: " ", startingAt: 0)) \(etag)")
            for route in s["routes"] as? [[String: Any]] ?? [] {
                print("route           \(Output.text(route["methods"])) \(Output.text(route["path"])) roles=\(Output.text(route["roles"]))")
            }
        }
    }

    struct Apply: AdminCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or replace the services in a YAML file (a `services:` list, or one service document).")
        @OptionGroup var connection: Connection
        @Option(name: .shortAndLong, help: "YAML (or JSON) file.") var file: String

        func execute() async throws {
            var documents = try DocumentFile.documents(in: file, list: "services", kind: "service") { $0["name"] != nil }
            for i in documents.indices {
                if let url = documents[i].removeValue(forKey: "url") { documents[i]["instances"] = [url] }
            }
            try await DocumentFile.apply(documents, collection: "/api/brain/services", kind: "service", connection: connection)
        }
    }

    struct Delete: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a service.")
        @OptionGroup var connection: Connection
        @Argument var name: String
        @Option(help: "Only if the service is still at this ETag.") var ifMatch: String?

        func execute() async throws {
            let headers = ifMatch.map { [("If-Match", $0.hasPrefix("\"") ? $0 : "\"\($0)\"")] } ?? []
            let reply = try await AdminClient.send(.DELETE, "/api/brain/services/\(name)", headers: headers, connection: connection)
            try AdminClient.check(reply, [204])
            if connection.json { print("{\"deleted\":\"\(name)\"}") } else { print("deleted \(name)") }
        }
    }
}

// MARK: routes

struct Routes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add routes to a service.", subcommands: [Add.self])

    struct Add: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Add a route: brainctl routes add SERVICE PATH --method GET --role admin")
        @OptionGroup var connection: Connection
        @Argument var service: String
        @Argument var path: String
        @Option(name: .customLong("method"), help: "HTTP method (repeatable; none = every method).") var methods: [String] = []
        @Option(name: .customLong("role"), help: "Role a caller needs (repeatable; any one suffices).") var roles: [String] = []

        func execute() async throws {
            let body = try JSONSerialization.data(withJSONObject: ["path": path, "methods": methods, "roles": roles])
            let reply = try await AdminClient.send(.POST, "/api/brain/services/\(service)/routes", body: body, connection: connection)
            try AdminClient.check(reply, [201])
            if connection.json { return Output.json(reply.body) }
            print("added \(methods.isEmpty ? "ANY" : methods.joined(separator: ",")) \(path) to \(service)")
        }
    }
}

// MARK: health, events, metrics

struct Health: AdminCommand {
    static let configuration = CommandConfiguration(abstract: "Health of every service and instance, with breaker states.")
    @OptionGroup var connection: Connection

    func execute() async throws {
        guard let object = try await AdminClient.fetch("/api/brain/health", connection: connection) else { return }
        var rows: [[String]] = []
        for service in object["services"] as? [[String: Any]] ?? [] {
            for instance in service["instances"] as? [[String: Any]] ?? [] {
                rows.append([Output.text(service["name"]), Output.text(service["status"]), Output.text(instance["url"]),
                             Output.text(instance["status"]), Output.text(instance["breaker"]), Output.text(instance["response_time_ms"])])
            }
        }
        Output.table(["SERVICE", "STATUS", "INSTANCE", "INSTANCE STATUS", "BREAKER", "RESPONSE MS"], rows)
    }
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Domain events.", subcommands: [Tail.self])

    struct Tail: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Print recent events, then follow new ones (Ctrl-C to stop).")
        @OptionGroup var connection: Connection
        @Option(help: "Only events of this type.") var type: String?
        @Option(help: "How many recent events to print first.") var limit = 20
        @Flag(help: "Print the recent events and exit.") var noFollow = false

        func execute() async throws {
            var query = "limit=\(limit)"
            if let type { query += "&type=\(type)" }
            let reply = try await AdminClient.send(.GET, "/api/brain/events?\(query)", connection: connection)
            try AdminClient.check(reply, [200])
            let events = (reply.object as? [String: Any])?["events"] as? [[String: Any]] ?? []
            for event in events { show(event) }
            guard !noFollow else { return }
            let last = events.last.flatMap { ($0["id"] as? NSNumber)?.int64Value } ?? 0
            var request = HTTPClientRequest(url: connection.baseURL + "/api/brain/events/stream?since=\(last)" + (type.map { "&type=\($0)" } ?? ""))
            if let bearer = connection.bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
            let response: HTTPClientResponse
            do {
                response = try await AdminClient.http.execute(request, timeout: .hours(24 * 365))
            } catch {
                throw Failure(description: "cannot reach \(connection.baseURL): \(error)")
            }
            guard response.status == .ok else { throw Failure(description: "HTTP \(response.status.code) from the event stream") }
            var pending = ""
            for try await chunk in response.body {
                pending += String(buffer: chunk)
                while let end = pending.range(of: "\n\n") {
                    let message = pending[..<end.lowerBound]
                    pending = String(pending[end.upperBound...])
                    for line in message.split(separator: "\n") where line.hasPrefix("data: ") {
                        if let object = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any] { show(object) }
                    }
                }
            }
        }

        /// Written straight to the file descriptor: a follower piped into another program sees
        /// each event at once, not when a buffer fills.
        func show(_ event: [String: Any]) {
            var line: String
            if connection.json {
                let data = (try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
                line = String(decoding: data, as: UTF8.self)
            } else {
                let data = (event["data"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\(Output.text($0.value))" }.joined(separator: " ")
                line = "\(Output.text(event["id"]))  \(Output.text(event["occurred_at"]))  \(Output.text(event["type"]))  \(data)"
            }
            line += "\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }
}

struct Metrics: AdminCommand {
    static let configuration = CommandConfiguration(abstract: "The metrics summary.")
    @OptionGroup var connection: Connection

    func execute() async throws {
        guard let m = try await AdminClient.fetch("/api/brain/metrics", connection: connection) else { return }
        for key in ["total_requests", "average_response_time", "circuit_breaker_activations", "cached_responses", "ai_agent_executions", "autonomous_decisions"] {
            print("\(key.padding(toLength: 28, withPad: " ", startingAt: 0)) \(Output.text(m[key]))")
        }
        for (service, count) in (m["requests_per_service"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            print("requests[\(service)]".padding(toLength: 28, withPad: " ", startingAt: 0) + " \(Output.text(count))")
        }
        for (tenant, count) in (m["tenant_distribution"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            print("tenant[\(tenant)]".padding(toLength: 28, withPad: " ", startingAt: 0) + " \(Output.text(count))")
        }
    }
}

/// `apply -f`: a YAML (or JSON) file of documents, each created or replaced through the admin
/// API (GET for its ETag, then PUT with `If-Match`, or POST when it does not exist).
enum DocumentFile {
    /// The file's `list:` entries, or the file itself when `isDocument` says it is one.
    static func documents(in file: String, list: String, kind: String, isDocument: ([String: Any]) -> Bool) throws -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw Failure(description: "cannot read \(file)") }
        let loaded: Any?
        do { loaded = try Yams.load(yaml: text) } catch { throw Failure(description: "\(file) is not valid YAML") }
        if let root = loaded as? [String: Any], let entries = root[list] as? [[String: Any]] { return entries }
        if let single = loaded as? [String: Any], isDocument(single) { return [single] }
        throw Failure(description: "\(file) holds neither a \(list): list nor a \(kind) document")
    }

    static func apply(_ documents: [[String: Any]], collection: String, kind: String, connection: Connection) async throws {
        var rows: [[String]] = []
        for document in documents {
            guard let name = document["name"] as? String else { throw Failure(description: "a \(kind) has no name") }
            let body = try JSONSerialization.data(withJSONObject: document)
            var scoped = connection
            if let tenant = document["tenant_id"] as? String { scoped.tenant = tenant }
            let existing = try await AdminClient.send(.GET, "\(collection)/\(name)", connection: scoped)
            let reply: AdminClient.Reply
            let action: String
            if existing.status == 200 {
                let etag = existing.headers.first(name: "etag").map { [("If-Match", $0)] } ?? []
                reply = try await AdminClient.send(.PUT, "\(collection)/\(name)", body: body, headers: etag, connection: scoped)
                try AdminClient.check(reply, [200])
                action = "updated"
            } else {
                try AdminClient.check(existing, [404])
                reply = try await AdminClient.send(.POST, collection, body: body, connection: scoped)
                try AdminClient.check(reply, [201])
                action = "created"
            }
            rows.append([name, action, reply.headers.first(name: "etag") ?? "-"])
        }
        if connection.json {
            Output.json(try JSONSerialization.data(withJSONObject: rows.map { ["name": $0[0], "result": $0[1], "etag": $0[2]] }))
        } else {
            Output.table(["NAME", "RESULT", "ETAG"], rows)
        }
    }
}
