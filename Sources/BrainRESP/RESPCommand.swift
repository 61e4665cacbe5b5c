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
        buffer.writeString("*\(arguments.count)\r\n")
        for argument in arguments {
            switch argument {
            case .text(let text):
                Self.writeBulk(text, into: &buffer)
            case .bytes(var bytes):
                buffer.writeString("$\(bytes.readableBytes)\r\n")
                buffer.writeBuffer(&bytes)
                buffer.writeStaticString("\r\n")
            case .integer(let value):
                // A decimal of up to 20 characters: a small string, no allocation.
                Self.writeBulk(String(value), into: &buffer)
            }
        }
    }

    private static func writeBulk(_ text: String, into buffer: inout ByteBuffer) {
        buffer.writeString("$\(text.utf8.count)\r\n")
        buffer.writeString(text)
        buffer.writeStaticString("\r\n")
    }
}
