import BrainHTTP1
import BrainInfrastructure
import NIOCore
import NIOHTTP1

/// A client's request head as the data plane reads it: the head's bytes (a slice of the read
/// buffer, not a copy) and where each part of it is. A stage that needs a field finds it by
/// comparing bytes; only the values it takes become strings.
struct RequestHead: RequestHeadReading {
    let parsed: ParsedRequestHead
    /// Stored, not computed: the stages read fields several times per request, and each
    /// computed view would copy (retain) the buffer and the span array again.
    let headers: HeadFields
    /// Exactly the head's bytes, request line to blank line.
    var bytes: ByteBuffer { headers.bytes }
    let method: HTTPMethod
    /// The request target as sent.
    let uri: String

    init(bytes: ByteBuffer, parsed: ParsedRequestHead) {
        self.parsed = parsed
        self.headers = HeadFields(bytes: bytes, fields: parsed.fields)
        self.method = bytes.withUnsafeReadableBytes { Self.method($0, parsed.method) }
        self.uri = bytes.getString(at: bytes.readerIndex + parsed.target.start, length: parsed.target.count) ?? ""
    }

    var version: HTTPVersion { parsed.minorVersion == 0 ? .http1_0 : .http1_1 }
    var isKeepAlive: Bool { !parsed.semantics.close }
    /// The request asked for `100 Continue` before sending its body.
    var expectsContinue: Bool { parsed.semantics.expectContinue }
    var hasBody: Bool {
        switch parsed.semantics.framing {
        case .none, .length(0): false
        default: true
        }
    }

    /// The same head in NIO's form, for the control plane (Hummingbird) and the rare paths
    /// that still take one. Allocates per field: not for the proxied path.
    func nioHead() -> HTTPRequestHead {
        var fields = HTTPHeaders()
        fields.reserveCapacity(parsed.fields.count)
        for (name, value) in headers { fields.add(name: name, value: value) }
        return HTTPRequestHead(version: version, method: method, uri: uri, headers: fields)
    }

    /// Methods the gateway sees every day are matched as bytes; any other token is kept as sent.
    private static func method(_ bytes: UnsafeRawBufferPointer, _ span: HeadSpan) -> HTTPMethod {
        let m = UnsafeRawBufferPointer(rebasing: bytes[span.start..<span.end])
        func equals(_ literal: StaticString) -> Bool {
            literal.utf8CodeUnitCount == m.count
                && m.elementsEqual(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
        }
        switch m.count {
        case 3: if equals("GET") { return .GET }; if equals("PUT") { return .PUT }
        case 4: if equals("POST") { return .POST }; if equals("HEAD") { return .HEAD }
        case 5: if equals("PATCH") { return .PATCH }
        case 6: if equals("DELETE") { return .DELETE }
        case 7: if equals("OPTIONS") { return .OPTIONS }; if equals("CONNECT") { return .CONNECT }
        default: break
        }
        return HTTPMethod(rawValue: String(decoding: m, as: UTF8.self))
    }
}
