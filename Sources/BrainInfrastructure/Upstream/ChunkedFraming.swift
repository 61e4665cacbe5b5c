import NIOCore

/// HTTP/1.1 chunked framing written as bytes, for the two places the gateway frames a body
/// itself: request bodies a client chunked (upstream side) and response bodies without a
/// length (client side).
public enum ChunkedFraming {
    public static let lineEnd = ByteBuffer(staticString: "\r\n")
    /// The last chunk with no trailers.
    public static let lastChunk = ByteBuffer(staticString: "0\r\n\r\n")

    /// Writes a chunk-size line (`<hex>\r\n`) for `size` bytes.
    public static func writeSizeLine(_ size: Int, into buffer: inout ByteBuffer) {
        let hex: StaticString = "0123456789abcdef"
        var shift = max(0, (Int.bitWidth - size.leadingZeroBitCount + 3) / 4 * 4 - 4)
        while shift >= 0 {
            buffer.writeInteger(hex.utf8Start[(size >> shift) & 0xF])
            shift -= 4
        }
        buffer.writeStaticString("\r\n")
    }

    /// Appends `part` as one chunk to `buffer` (nothing for an empty part).
    public static func append(_ part: ByteBuffer, to buffer: inout ByteBuffer) {
        guard part.readableBytes > 0 else { return }
        writeSizeLine(part.readableBytes, into: &buffer)
        buffer.writeImmutableBuffer(part)
        buffer.writeStaticString("\r\n")
    }

    /// Writes `part` as one chunk at `context` (not flushed). An empty part writes nothing:
    /// an empty chunk would end the body.
    public static func write(_ part: ByteBuffer, at context: ChannelHandlerContext) {
        guard part.readableBytes > 0 else { return }
        var line = context.channel.allocator.buffer(capacity: 18)
        writeSizeLine(part.readableBytes, into: &line)
        context.write(NIOAny(line), promise: nil)
        context.write(NIOAny(part), promise: nil)
        context.write(NIOAny(lineEnd), promise: nil)
    }
}
