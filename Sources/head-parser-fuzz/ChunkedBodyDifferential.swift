import BrainDomain
import BrainHTTP1
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// A chunked request body judged by the gateway's decoder and by llhttp (the body of a POST
/// with `Transfer-Encoding: chunked`): both must find the same end, or both refuse.
enum ChunkedBodyDifferential {
    static let head = Array("POST /svc/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)

    static let seeds: [[UInt8]] = [
        "5\r\nhello\r\n0\r\n\r\n", "a;ext=1;q=\"x;y\"\r\n0123456789\r\n3\r\nabc\r\n0\r\nTrailer: t\r\n\r\n", "0\r\n\r\n",
        "1\r\nx\r\n1\r\ny\r\n0\r\nA: 1\r\nB: 2\r\n\r\n", "FF\r\n" + String(repeating: "z", count: 255) + "\r\n0\r\n\r\n",
    ].map { Array($0.utf8) }

    enum Verdict: Equatable { case ended([UInt8]), refused, incomplete }

    static func ours(_ body: [UInt8]) -> Verdict {
        var decoder = ChunkedBodyDecoder()
        var data: [UInt8] = []
        var index = 0
        while true {
            switch body.withUnsafeBytes({ decoder.next($0, index: &index) }) {
            case .data(let span): data += body[span.start..<span.end]
            case .end: return .ended(data)
            case .refused: return .refused
            case .needMore: return .incomplete
            }
        }
    }

    static func llhttp(_ body: [UInt8]) -> Verdict {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        guard (try? channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))) != nil
        else { return .refused }
        var failed = false
        do { try channel.writeInbound(ByteBuffer(bytes: head + body)) } catch { failed = true }
        var data: [UInt8] = []
        while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
            switch part {
            case .head: break
            case .body(let buffer): data += Array(buffer.readableBytesView)
            case .end: return .ended(data)
            }
        }
        return failed ? .refused : .incomplete
    }

    static func disagreement(_ body: [UInt8]) -> String? {
        let mine = ours(body), theirs = llhttp(body)
        guard mine != .incomplete, theirs != .incomplete, mine != theirs else { return nil }
        guard !knownDivergence(body, mine: mine, theirs: theirs) else { return nil }
        return "gateway \(mine), llhttp \(theirs): \(String(decoding: body, as: UTF8.self).debugDescription)"
    }

    /// Where the two differ by design.
    static func knownDivergence(_ body: [UInt8], mine: Verdict, theirs: Verdict) -> Bool {
        // Malformed chunk extensions (an empty name or value, control bytes in a quoted value):
        // llhttp skips them, the gateway refuses. Known when reading every size line as its
        // hexadecimal digits alone gives what llhttp read.
        guard mine == .refused, case .ended(let data) = theirs else { return false }
        return sizeDigitsOnly(body) == data
    }

    /// The body's data with everything after the digits of each size line ignored, or nil.
    static func sizeDigitsOnly(_ body: [UInt8]) -> [UInt8]? {
        var data: [UInt8] = []
        var i = 0
        while true {
            var size = 0
            var digits = 0
            while i < body.count, let digit = Int(String(UnicodeScalar(body[i])), radix: 16) {
                size = size * 16 + digit
                digits += 1
                i += 1
                if digits > 12 { return nil }
            }
            guard digits > 0, let lineEnd = (i..<max(i, body.count - 1)).first(where: { body[$0] == 0x0D && body[$0 + 1] == 0x0A }) else { return nil }
            i = lineEnd + 2
            if size == 0 { return data }
            guard i + size + 2 <= body.count, body[i + size] == 0x0D, body[i + size + 1] == 0x0A else { return nil }
            data += body[i..<(i + size)]
            i += size + 2
        }
    }
}
