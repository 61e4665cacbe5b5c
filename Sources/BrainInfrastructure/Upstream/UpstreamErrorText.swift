import AsyncHTTPClient
import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Says in a few plain words why talking to an upstream failed — "connection refused",
/// "timed out after 2 s", "TLS handshake failed: certificate verify failed" — for `/health`,
/// `brainctl`, logs and 502 details. The libraries' own texts name internal states
/// ("connection reset (error set): Connection refused (errno: 111)") that an operator should not
/// have to decode.
public enum UpstreamErrorText {
    /// - Parameter timeoutSeconds: the deadline the caller set, named when the failure is a timeout.
    public static func describe(_ error: any Error, timeoutSeconds: Double? = nil) -> String {
        switch error {
        case let io as IOError:
            return describe(errno: io.errnoCode)
        case let connection as NIOConnectionError:
            if connection.dnsAError != nil || connection.dnsAAAAError != nil { return "could not resolve host \(connection.host)" }
            if let first = connection.connectionErrors.first { return describe(first.error, timeoutSeconds: timeoutSeconds) }
            return "could not connect to \(connection.host):\(connection.port)"
        case let channel as ChannelError:
            switch channel {
            case .connectTimeout(let amount): return "connect timed out after \(seconds(Double(amount.nanoseconds) / 1e9))"
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed: return "connection closed"
            default: return "connection failed"
            }
        case let ssl as NIOSSLError:
            return "TLS handshake failed: \(tlsReason(ssl))"
        case let boring as BoringSSLError:
            return "TLS handshake failed: \(tlsReason(text: "\(boring)"))"
        case let client as HTTPClientError:
            return describe(client, timeoutSeconds: timeoutSeconds)
        case is CancellationError:
            return "cancelled"
        default:
            return String(describing: error)
        }
    }

    /// A status the caller did not accept, e.g. a health endpoint answering 404.
    public static func answered(status: UInt) -> String { "answered HTTP \(status)" }

    static func describe(errno code: CInt) -> String {
        switch code {
        case ECONNREFUSED: "connection refused"
        case ECONNRESET, EPIPE: "connection reset"
        case ETIMEDOUT: "timed out"
        case EHOSTUNREACH: "host unreachable"
        case ENETUNREACH: "network unreachable"
        case ECONNABORTED: "connection aborted"
        case EADDRNOTAVAIL: "address not available"
        default: String(cString: strerror(code)).lowercased()
        }
    }

    private static func describe(_ error: HTTPClientError, timeoutSeconds: Double?) -> String {
        let timedOut = timeoutSeconds.map { "timed out after \(seconds($0))" } ?? "timed out"
        switch error {
        case .connectTimeout: return "connect " + timedOut
        case .readTimeout, .writeTimeout, .deadlineExceeded: return timedOut
        case .remoteConnectionClosed: return "connection closed before the response"
        case .cancelled: return "cancelled"
        case .tlsHandshakeTimeout: return "TLS handshake " + timedOut
        case .invalidURL, .emptyHost: return "invalid URL"
        default: return "request failed (\(error))"
        }
    }

    private static func tlsReason(_ error: NIOSSLError) -> String {
        switch error {
        case .handshakeFailed(let boring): tlsReason(text: "\(boring)")
        default: tlsReason(text: "\(error)")
        }
    }

    /// BoringSSL's stack reads `sslError([Error: 268435581 error:1000007d:SSL
    /// routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED])`; its last part is the reason.
    static func tlsReason(text: String) -> String {
        guard let colon = text.lastIndex(of: ":") else { return text }
        let reason = text[text.index(after: colon)...].prefix { $0 != "]" && $0 != ")" && $0 != "," && $0 != "\n" }
        guard !reason.isEmpty, reason.allSatisfy({ $0.isUppercase || $0 == "_" || $0.isNumber }) else { return text }
        return String(reason.lowercased().map { $0 == "_" ? " " : $0 })
    }

    /// `2 s`, `1.5 s`, `0.25 s`.
    static func seconds(_ value: Double) -> String {
        if value == value.rounded() { return "\(Int(value)) s" }
        return "\((value * 100).rounded() / 100) s"
    }
}
