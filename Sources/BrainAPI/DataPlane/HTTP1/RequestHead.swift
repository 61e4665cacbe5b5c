import BrainHTTP1
import NIOCore
import NIOHTTP1

/// A client's request head as the data plane reads it: the head's bytes (a slice of the read
/// buffer, not a copy) and where each part of it is. A stage that needs a field finds it by
/// comparing bytes; only the values it takes become strings.
struct RequestHead: RequestHeadReading {
    /// Exactly the head's bytes, request line to blank line.
    let bytes: ByteBuffer
    let parsed: ParsedRequestHead
    let method: HTTPMethod
    /// The request target as sent.
    let uri: String

    init(bytes: ByteBuffer, parsed: ParsedRequestHead) {
        self.bytes = bytes
        self.parsed = parsed
        self.method = bytes.withUnsafeReadableBytes { Self.method($0, parsed.method) }
        self.uri = bytes.getString(at: bytes.readerIndex + parsed.target.start, length: parsed.target.count) ?? ""
    }

    var version: HTTPVersion { parsed.minorVersion == 0 ? .http1_0 : .http1_1 }
    var isKeepAlive: Bool { !parsed.semantics.close }
    var headers: RequestFields { RequestFields(bytes: bytes, fields: parsed.fields) }
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

/// A request head's fields, read from its bytes.
struct RequestFields: HeaderFieldReading {
    let bytes: ByteBuffer
    let fields: [HeadField]

    var count: Int { fields.count }

    func first(name: String) -> String? {
        guard let index = firstIndex(name) else { return nil }
        return value(at: index)
    }

    func contains(name: String) -> Bool { firstIndex(name) != nil }

    func count(named name: String) -> Int {
        var count = 0
        forEachIndex(named: name) { _ in count += 1 }
        return count
    }

    func first(name: String, is value: String) -> Bool {
        guard let index = firstIndex(name) else { return false }
        let span = fields[index].value
        var value = value
        return value.withUTF8 { wanted in
            wanted.count == span.count
                && bytes.withUnsafeReadableBytes { UnsafeRawBufferPointer(rebasing: $0[span.start..<span.end]).elementsEqual(wanted) }
        }
    }

    func forEachField(_ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool) {
        bytes.withUnsafeReadableBytes { head in
            for field in fields {
                let name = UnsafeRawBufferPointer(rebasing: head[field.name.start..<field.name.end])
                let value = UnsafeRawBufferPointer(rebasing: head[field.value.start..<field.value.end])
                if !body(name, value) { return }
            }
        }
    }

    subscript(name: String) -> [String] {
        var values: [String] = []
        forEachIndex(named: name) { values.append(value(at: $0)) }
        return values
    }

    subscript(canonicalForm name: String) -> [Substring] {
        var items: [Substring] = []
        forEachIndex(named: name) { index in
            for item in value(at: index).split(separator: ",") {
                let trimmed = item.drop { $0 == " " || $0 == "\t" }
                let end = trimmed.lastIndex { $0 != " " && $0 != "\t" }
                if let end { items.append(trimmed[...end]) }
            }
        }
        return items
    }

    /// The name of field `index` as it was sent.
    func name(at index: Int) -> String {
        let span = fields[index].name
        return bytes.getString(at: bytes.readerIndex + span.start, length: span.count) ?? ""
    }

    func value(at index: Int) -> String {
        let span = fields[index].value
        return bytes.getString(at: bytes.readerIndex + span.start, length: span.count) ?? ""
    }

    /// Whether field `index` is named `name`, ASCII case ignored on both sides.
    func field(_ index: Int, isNamed name: String) -> Bool {
        let span = fields[index].name
        var name = name
        return name.withUTF8 { wanted in
            guard wanted.count == span.count else { return false }
            return bytes.withUnsafeReadableBytes { head in
                for offset in 0..<span.count {
                    let byte = head[span.start + offset]
                    let other = wanted[offset]
                    if (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) != (other >= 0x41 && other <= 0x5A ? other | 0x20 : other) {
                        return false
                    }
                }
                return true
            }
        }
    }

    private func firstIndex(_ name: String) -> Int? {
        for index in fields.indices where field(index, isNamed: name) { return index }
        return nil
    }

    private func forEachIndex(named name: String, _ body: (Int) -> Void) {
        for index in fields.indices where field(index, isNamed: name) { body(index) }
    }

    func makeIterator() -> Iterator { Iterator(fields: self, index: 0) }

    struct Iterator: IteratorProtocol {
        let fields: RequestFields
        var index: Int

        mutating func next() -> (name: String, value: String)? {
            guard index < fields.fields.count else { return nil }
            defer { index += 1 }
            return (fields.name(at: index), fields.value(at: index))
        }
    }
}
