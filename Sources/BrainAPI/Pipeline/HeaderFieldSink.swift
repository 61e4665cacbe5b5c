import NIOCore
import NIOHTTP1

/// Where a header rewrite puts the fields it keeps: an `HTTPHeaders` (heads that still go
/// through NIO's encoders) or the bytes of a head being composed (the data plane's path). One
/// rewrite, two outputs, and the generic code is specialised for each.
protocol HeaderFieldSink {
    mutating func addField(_ name: String, _ value: String)
    /// A field copied as it was read (name and value bytes).
    mutating func addField(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
    mutating func addField(_ name: String, decimal value: Int)
    /// A position to come back to: the fields added after it can be taken back.
    var fieldMark: Int { get }
    mutating func rewind(to mark: Int)
}

extension HTTPHeaders: HeaderFieldSink {
    mutating func addField(_ name: String, _ value: String) { add(name: name, value: value) }
    mutating func addField(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        add(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    }
    mutating func addField(_ name: String, decimal value: Int) { add(name: name, value: String(value)) }
    var fieldMark: Int { count }
    mutating func rewind(to mark: Int) { self = HTTPHeaders(Array(prefix(mark))) }
}

extension ByteBuffer: HeaderFieldSink {
    mutating func addField(_ name: String, _ value: String) {
        writeString(name)
        writeStaticString(": ")
        writeString(value)
        writeStaticString("\r\n")
    }

    mutating func addField(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        writeBytes(name)
        writeStaticString(": ")
        writeBytes(value)
        writeStaticString("\r\n")
    }

    /// No `String` is made for the number.
    mutating func addField(_ name: String, decimal value: Int) {
        writeString(name)
        writeStaticString(": ")
        writeDecimal(value)
        writeStaticString("\r\n")
    }

    var fieldMark: Int { writerIndex }
    mutating func rewind(to mark: Int) { moveWriterIndex(to: mark) }

    /// Writes a non-negative integer's decimal digits (a negative one as `0`).
    mutating func writeDecimal(_ value: Int) {
        guard value > 0 else {
            writeInteger(UInt8(ascii: "0"))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        var v = UInt(value)
        withUnsafeMutableBytes(of: &digits) { bytes in
            while v > 0 {
                bytes[23 - count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                count += 1
            }
            writeBytes(UnsafeRawBufferPointer(rebasing: bytes[(24 - count)...]))
        }
    }
}
