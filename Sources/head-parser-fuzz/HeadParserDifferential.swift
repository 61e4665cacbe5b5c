import Foundation
import BrainDomain
import BrainHTTP1
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// One head judged by the gateway's parser and by llhttp (NIO's decoder, with the Host rule the
/// data plane applies on top of it today). A disagreement is a finding, unless it is one of the
/// documented places where the gateway is deliberately stricter or wider.
enum HeadParserDifferential {
    enum Verdict: Equatable { case accepted, refused, incomplete }

    static func ours(_ bytes: [UInt8]) -> Verdict {
        bytes.withUnsafeBytes {
            switch HTTPHeadParser.parseRequest($0) {
            case .complete: .accepted
            case .refused: .refused
            case .incomplete: .incomplete
            }
        }
    }

    static func llhttp(_ bytes: [UInt8]) -> Verdict {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        guard (try? channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))) != nil
        else { return .refused }
        // Only the head's bytes (through the first blank line): what follows (a body, a
        // pipelined request) is not the head's verdict. llhttp fires the head before its
        // after-headers checks (a request's Transfer-Encoding), so an error on these bytes
        // refuses the head even when the head was produced.
        var end = bytes.count
        if let blank = (0..<max(0, bytes.count - 3)).first(where: { bytes[$0] == 0x0D && bytes[$0 + 1] == 0x0A && bytes[$0 + 2] == 0x0D && bytes[$0 + 3] == 0x0A }) {
            end = blank + 4
        }
        do { try channel.writeInbound(ByteBuffer(bytes: bytes[..<end])) } catch { return .refused }
        guard case .head(let head)? = try? channel.readInbound(as: HTTPServerRequestPart.self) else { return .incomplete }
        // The data plane's limits and rules on top of llhttp: at most 100 fields (431), and
        // Host counted by fields (an empty one included), not by values.
        if head.headers.count > 100 { return .refused }
        let hosts = head.headers.filter { $0.name.lowercased() == "host" }.count
        if hosts > 1 || (hosts == 0 && head.version.minor >= 1) { return .refused }
        return .accepted
    }

    /// Nil when both agree (or one has not seen a whole head); else what differs.
    static func disagreement(_ bytes: [UInt8]) -> String? {
        let mine = ours(bytes), theirs = llhttp(bytes)
        guard mine != .incomplete, theirs != .incomplete, mine != theirs else { return nil }
        guard !knownDivergence(bytes, oursAccepts: mine == .accepted) else { return nil }
        return "gateway \(mine), llhttp \(theirs): \(String(decoding: bytes, as: UTF8.self).debugDescription)"
    }

    /// The places the two differ by design.
    static func knownDivergence(_ bytes: [UInt8], oursAccepts: Bool) -> Bool {
        if let space = bytes.firstIndex(of: 0x20), space + 1 < bytes.count, bytes[space + 1] != 0x2F {
            // Absolute-, authority- and asterisk-form targets: llhttp checks their syntax (and
            // the Host field beside them) its own way; the data plane serves origin-form only and
            // answers 400 to the others after parsing (RequestTarget), whatever a parser says.
            return true
        }
        if oursAccepts, let space = bytes.firstIndex(of: 0x20) {
            // llhttp knows a fixed list of methods; RFC 9110 §9.1 allows extension methods,
            // and the gateway passes them on (routes decide which are served).
            let method = String(decoding: bytes[..<space].drop { $0 == 0x0D || $0 == 0x0A }, as: UTF8.self)
            if !llhttpMethods.contains(method) { return true }
        }
        if !oursAccepts {
            // RFC 9112 §3 lets a recipient split the request line on runs of whitespace and
            // §2.2 skip a bare CR or LF before it; llhttp does both. The gateway keeps to the
            // grammar (single SP, CRLF): nothing is read two ways; a sloppy client gets 400.
            let line = bytes.prefix { $0 != 0x0A }
            if bytes.first == 0x0D || bytes.first == 0x0A { return true }
            if zip(line, line.dropFirst()).contains(where: { $0 == 0x20 && $1 == 0x20 }) { return true }
            // RFC 9112 §6.1: chunked must not be applied more than once; llhttp lets a second
            // Transfer-Encoding: chunked field through, the gateway refuses it.
            let text = String(decoding: bytes, as: UTF8.self).lowercased()
            if text.components(separatedBy: "chunked").count > 2 { return true }
            // A request's Transfer-Encoding that is empty or does not end with chunked: the
            // gateway refuses it always; llhttp lets an empty one through, and stops checking
            // when the request asks for an upgrade.
            for line in text.components(separatedBy: "\r\n") where line.hasPrefix("transfer-encoding:") {
                let value = line.dropFirst("transfer-encoding:".count).trimmingCharacters(in: .whitespaces)
                if !value.hasSuffix("chunked") { return true }
            }
            // Whitespace after a Content-Length or Transfer-Encoding value: llhttp refuses a
            // tab there and accepts a space; the gateway refuses both (one reading only).
            for name in ["content-length:", "transfer-encoding:"] {
                for line in text.components(separatedBy: "\r\n") where line.hasPrefix(name) {
                    if line.hasSuffix(" ") || line.hasSuffix("\t") { return true }
                }
            }
        }
        return false
    }

    static let llhttpMethods: Set<String> = [
        "DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE", "COPY", "LOCK", "MKCOL", "MOVE", "PROPFIND", "PROPPATCH",
        "SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND", "ACL", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY",
        "SUBSCRIBE", "UNSUBSCRIBE", "PATCH", "PURGE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE", "QUERY",
    ]

    /// Random edits of `seed` (bytes that matter to HTTP syntax replaced, inserted, removed;
    /// field lines duplicated).
    static func mutate(_ seed: [UInt8], random: inout SplitMix64) -> [UInt8] {
        var bytes = seed
        let interesting: [UInt8] = [0x0D, 0x0A, 0x20, 0x09, 0x3A, 0x00, 0x7F, 0x80, 0xFF, 0x2C, 0x30, 0x39, 0x2B, 0x2D, 0x61, 0x41, 0x2F, 0x3F, 0x22]
        for _ in 0..<(1 + Int(random.next() % 3)) {
            guard bytes.count > 4 else { break }
            let position = Int(random.next() % UInt64(bytes.count - 4))
            switch random.next() % 4 {
            case 0: bytes[position] = interesting[Int(random.next() % UInt64(interesting.count))]
            case 1: bytes.insert(interesting[Int(random.next() % UInt64(interesting.count))], at: position)
            case 2: bytes.remove(at: position)
            default:
                guard let start = bytes[..<position].lastIndex(of: 0x0A), let end = bytes[position...].firstIndex(of: 0x0A) else { continue }
                bytes.insert(contentsOf: bytes[(start + 1)...end], at: end + 1)
            }
        }
        return bytes
    }
}
