import NIOCore

/// A command as Redis receives it: an array of bulk strings (the only form clients send).
/// Encoded straight into the connection's write buffer.
public struct RESPCommand: Sendable, Equatable {
    public var arguments: [Argument]

    public enum Argument: Sendable, Equatable {
        case text(String)
        case bytes(ByteBuffer)
        case integer(Int64)
    }

    public init(_ name: String, _ arguments: [Argument] = []) {
        self.arguments = [.text(name)] + arguments
    }

    public init(_ name: String, _ arguments: String...) {
        self.arguments = [.text(name)] + arguments.map(Argument.text)
    }

    /// The command's name, for logs and metrics (never its arguments: they may hold secrets).
    public var name: String {
        if case .text(let name) = arguments.first { return name }
        return "?"
    }

    public func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "*"))
        Self.writeDecimal(Int64(arguments.count), into: &buffer)
        buffer.writeStaticString("\r\n")
        for argument in arguments {
            switch argument {
            case .text(let text):
                Self.writeBulkLength(text.utf8.count, into: &buffer)
                buffer.writeString(text)
            case .bytes(var bytes):
                Self.writeBulkLength(bytes.readableBytes, into: &buffer)
                buffer.writeBuffer(&bytes)
            case .integer(let value):
                var digits = ByteBuffer()
                Self.writeDecimal(value, into: &digits)
                Self.writeBulkLength(digits.readableBytes, into: &buffer)
                buffer.writeBuffer(&digits)
            }
            buffer.writeStaticString("\r\n")
        }
    }

    private static func writeBulkLength(_ length: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "$"))
        writeDecimal(Int64(length), into: &buffer)
        buffer.writeStaticString("\r\n")
    }

    private static func writeDecimal(_ value: Int64, into buffer: inout ByteBuffer) {
        if value < 0 { buffer.writeInteger(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { storage in
            repeat {
                storage[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: storage[(20 - count)...]))
        }
    }
}
