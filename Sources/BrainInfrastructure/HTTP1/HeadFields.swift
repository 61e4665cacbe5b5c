import BrainHTTP1
import NIOCore

/// A head's fields, read from its bytes (request or response): spans into a slice of the
/// read buffer, compared as bytes; a string is made only for a value a caller takes.
public struct HeadFields: HeaderFieldReading {
    public let bytes: ByteBuffer
    public let fields: [HeadField]

    public init(bytes: ByteBuffer, fields: [HeadField]) {
        self.bytes = bytes
        self.fields = fields
    }

    public func first(name: String) -> String? {
        guard let index = firstIndex(name) else { return nil }
        return value(at: index)
    }

    public func contains(name: String) -> Bool { firstIndex(name) != nil }

    public func count(named name: String) -> Int {
        var count = 0
        forEachIndex(named: name) { _ in count += 1 }
        return count
    }

    public func first(name: String, is value: String) -> Bool {
        guard let index = firstIndex(name) else { return false }
        let span = fields[index].value
        var value = value
        return value.withUTF8 { wanted in
            wanted.count == span.count
                && bytes.withUnsafeReadableBytes { UnsafeRawBufferPointer(rebasing: $0[span.start..<span.end]).elementsEqual(wanted) }
        }
    }

    public func forEachField(_ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool) {
        bytes.withUnsafeReadableBytes { head in
            for field in fields {
                let name = UnsafeRawBufferPointer(rebasing: head[field.name.start..<field.name.end])
                let value = UnsafeRawBufferPointer(rebasing: head[field.value.start..<field.value.end])
                if !body(name, value) { return }
            }
        }
    }

    public subscript(name: String) -> [String] {
        var values: [String] = []
        forEachIndex(named: name) { values.append(value(at: $0)) }
        return values
    }

    public subscript(canonicalForm name: String) -> [Substring] {
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
    public func name(at index: Int) -> String {
        let span = fields[index].name
        return bytes.getString(at: bytes.readerIndex + span.start, length: span.count) ?? ""
    }

    public func value(at index: Int) -> String {
        let span = fields[index].value
        return bytes.getString(at: bytes.readerIndex + span.start, length: span.count) ?? ""
    }

    /// Whether field `index` is named `name`, ASCII case ignored on both sides.
    public func field(_ index: Int, isNamed name: String) -> Bool {
        let span = fields[index].name
        guard span.count == name.utf8.count else { return false }
        return bytes.withUnsafeReadableBytes { head in Self.equalIgnoringCase(head, span, name) }
    }

    /// The stages look a few names up per request in heads of a dozen fields: the lengths are
    /// compared first (no buffer access), and the buffer is opened once per lookup, not once
    /// per field (each opening retains its storage).
    private func firstIndex(_ name: String) -> Int? {
        let length = name.utf8.count
        var candidate = fields.startIndex
        while candidate < fields.endIndex, fields[candidate].name.count != length { candidate += 1 }
        guard candidate < fields.endIndex else { return nil }
        return bytes.withUnsafeReadableBytes { head in
            for index in candidate..<fields.endIndex where fields[index].name.count == length && Self.equalIgnoringCase(head, fields[index].name, name) {
                return index
            }
            return nil
        }
    }

    private func forEachIndex(named name: String, _ body: (Int) -> Void) {
        guard let first = firstIndex(name) else { return }
        let length = name.utf8.count
        bytes.withUnsafeReadableBytes { head in
            body(first)
            for index in (first + 1)..<fields.endIndex where fields[index].name.count == length && Self.equalIgnoringCase(head, fields[index].name, name) {
                body(index)
            }
        }
    }

    private static func equalIgnoringCase(_ head: UnsafeRawBufferPointer, _ span: HeadSpan, _ name: String) -> Bool {
        var offset = span.start
        for other in name.utf8 {
            let byte = head[offset]
            if (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) != (other >= 0x41 && other <= 0x5A ? other | 0x20 : other) {
                return false
            }
            offset += 1
        }
        return true
    }

    public func makeIterator() -> Iterator { Iterator(fields: self, index: 0) }

    public struct Iterator: IteratorProtocol {
        let fields: HeadFields
        var index: Int

        public mutating func next() -> (name: String, value: String)? {
            guard index < fields.fields.count else { return nil }
            defer { index += 1 }
            return (fields.name(at: index), fields.value(at: index))
        }
    }
}
