import BrainDomain
import Foundation

/// What a tenant's credentials add to a request to an integration, by its auth scheme — the
/// same for the activation's `verify` call and for proxied calls. Nothing else in the gateway
/// turns credential values into bytes on the wire.
public struct OutboundCredentials: Sendable, Equatable {
    public struct Field: Sendable, Equatable {
        public let name: String
        public let value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var headers: [Field] = []
    public var query: [Field] = []

    /// Why credentials cannot be applied; names the field, never its value.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// `credentials.<field>`.
        public let field: String
        public let reason: String
        public var description: String { "\(field) \(reason)" }
    }

    /// - Parameter accessToken: for `oauth2`, the current access token (from a refresh, or the
    ///   stored `access_token` when nil).
    public static func applying(
        _ credentials: Credentials, for integration: Integration, accessToken: String? = nil
    ) throws(Problem) -> OutboundCredentials {
        func value(_ field: String) throws(Problem) -> String {
            guard let value = credentials[field], !value.isEmpty else { throw Problem(field: "credentials.\(field)", reason: "is required") }
            // A value that could end a header line or hide in one would let a tenant add fields.
            guard value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
                throw Problem(field: "credentials.\(field)", reason: "must not contain control characters")
            }
            return value
        }
        var out = OutboundCredentials()
        switch integration.auth {
        case .bearer:
            out.headers.append(Field(name: "Authorization", value: "Bearer " + (try value(integration.credentials[0]))))
        case .basic:
            let user = try value("username"), password = try value("password")
            guard !user.contains(":") else { throw Problem(field: "credentials.username", reason: "must not contain ':'") }
            out.headers.append(Field(name: "Authorization", value: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()))
        case .header(let name):
            out.headers.append(Field(name: name, value: try value(integration.credentials[0])))
        case .query(let name):
            out.query.append(Field(name: name, value: try value(integration.credentials[0])))
        case .oauth2:
            let token: String
            if let accessToken {
                token = accessToken
            } else {
                token = try value("access_token")
            }
            guard token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
                throw Problem(field: "credentials.access_token", reason: "must not contain spaces or control characters")
            }
            out.headers.append(Field(name: "Authorization", value: "Bearer " + token))
        }
        return out
    }

    /// `pathAndQuery` with the query fields appended, percent-encoded (RFC 3986 unreserved
    /// characters kept).
    public func appendingQuery(to pathAndQuery: String) -> String {
        guard !query.isEmpty else { return pathAndQuery }
        var result = pathAndQuery
        for (i, field) in query.enumerated() {
            result += (i == 0 && !pathAndQuery.contains("?")) ? "?" : "&"
            result += Self.encode(field.name) + "=" + Self.encode(field.value)
        }
        return result
    }

    private static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let unreserved = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
            if unreserved {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
