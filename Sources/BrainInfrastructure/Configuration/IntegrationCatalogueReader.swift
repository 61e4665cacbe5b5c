import BrainApplication
import BrainDomain
import Yams

/// Reads integration entries — the shipped catalogue and YAML `integrations:` — with one
/// reader, so both are checked alike; a problem names its field (`integrations[3].auth`).
///
/// An entry: `{name, category, auth, credentials: [fields], base_url, verify?: {method, path}}`;
/// `auth` is `bearer`, `basic`, `header:<Name>`, `query:<param>` or
/// `{type: oauth2, token_url}`.
public struct IntegrationCatalogueReader: Sendable {
    private let nodes = ServiceFileLoader()

    public init() {}

    /// The catalogue shipped with the gateway, with `overrides` (YAML `integrations:` entries)
    /// added, or replacing the shipped entry of the same name; sorted by name.
    public func catalogue(overrides: [Integration] = []) -> [Integration] {
        var byName: [String: Integration] = [:]
        // The shipped text is checked by the tests; an entry that did not read would be a bug
        // in this file, and is left out rather than stopping the gateway.
        if let shipped = try? entries(yaml: Self.shipped, at: "catalogue") {
            for entry in shipped { byName[entry.name.value] = entry }
        }
        for entry in overrides { byName[entry.name.value] = entry }
        return byName.values.sorted { $0.name.value < $1.name.value }
    }

    /// A YAML list of entries (the shipped text, or a test's).
    func entries(yaml text: String, at path: String) throws(ConfigurationError) -> [Integration] {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw ConfigurationError(field: path, reason: "not valid YAML") }
        guard let node else { return [] }
        return try entries(node, at: path)
    }

    /// The `integrations:` list of the configuration file.
    public func entries(_ node: Node, at path: String) throws(ConfigurationError) -> [Integration] {
        guard case .sequence(let sequence) = node else { throw ConfigurationError(field: path, reason: "must be a list") }
        var seen = Set<String>()
        var out: [Integration] = []
        for (i, item) in sequence.enumerated() {
            let entry = try integration(item, at: "\(path)[\(i)]")
            guard seen.insert(entry.name.value).inserted else {
                throw ConfigurationError(field: "\(path)[\(i)].name", reason: "'\(entry.name.value)' is listed twice")
            }
            out.append(entry)
        }
        return out
    }

    func integration(_ node: Node, at path: String) throws(ConfigurationError) -> Integration {
        let map = try nodes.mapping(node, at: path)
        try nodes.onlyKeys(map, ["name", "category", "auth", "credentials", "base_url", "verify"], at: path)
        func required(_ key: String) throws(ConfigurationError) -> Node {
            guard let value = map[key] else { throw ConfigurationError(field: "\(path).\(key)", reason: "is required") }
            return value
        }
        let nameText = try nodes.string(try required("name"), at: "\(path).name")
        let name: ServiceName
        do { name = try ServiceName(nameText) } catch { throw ConfigurationError(field: "\(path).name", reason: "\(error)") }
        let category = try nodes.string(try required("category"), at: "\(path).category")
        let auth = try self.auth(try required("auth"), at: "\(path).auth")
        guard case .sequence(let fieldNodes) = try required("credentials") else {
            throw ConfigurationError(field: "\(path).credentials", reason: "must be a list of field names")
        }
        var fields: [String] = []
        for (i, field) in fieldNodes.enumerated() { fields.append(try nodes.string(field, at: "\(path).credentials[\(i)]")) }
        let baseURL = try nodes.string(try required("base_url"), at: "\(path).base_url")
        var verify: Integration.Verify?
        if let v = map["verify"], !nodes.isNull(v) {
            let m = try nodes.mapping(v, at: "\(path).verify")
            try nodes.onlyKeys(m, ["method", "path"], at: "\(path).verify")
            let method = try m["method"].map { n throws(ConfigurationError) in try nodes.string(n, at: "\(path).verify.method") } ?? "GET"
            guard ["GET", "HEAD", "POST"].contains(method) else {
                throw ConfigurationError(field: "\(path).verify.method", reason: "must be GET, HEAD or POST")
            }
            guard let p = m["path"] else { throw ConfigurationError(field: "\(path).verify.path", reason: "is required") }
            verify = Integration.Verify(method: HttpMethod(method), path: try nodes.string(p, at: "\(path).verify.path"))
        }
        do {
            return try Integration(name: name, category: category, auth: auth, credentials: fields, baseURL: baseURL, verify: verify)
        } catch {
            throw ConfigurationError(field: "\(path).\(error.field)", reason: error.reason)
        }
    }

    private func auth(_ node: Node, at path: String) throws(ConfigurationError) -> Integration.Auth {
        if case .mapping = node {
            let m = try nodes.mapping(node, at: path)
            try nodes.onlyKeys(m, ["type", "token_url"], at: path)
            guard let type = m["type"], try nodes.string(type, at: "\(path).type") == "oauth2" else {
                throw ConfigurationError(field: "\(path).type", reason: "must be oauth2")
            }
            guard let url = m["token_url"] else { throw ConfigurationError(field: "\(path).token_url", reason: "is required") }
            return .oauth2(tokenURL: try nodes.string(url, at: "\(path).token_url"))
        }
        let text = try nodes.string(node, at: path)
        switch text {
        case "bearer": return .bearer
        case "basic": return .basic
        default:
            if text.hasPrefix("header:"), text.count > 7 { return .header(String(text.dropFirst(7))) }
            if text.hasPrefix("query:"), text.count > 6 { return .query(String(text.dropFirst(6))) }
            throw ConfigurationError(field: path, reason: "must be bearer, basic, header:<Name>, query:<param> or {type: oauth2, token_url}")
        }
    }
}
