import NIOCore
import NIOPosix

/// A byte-exact HTTP/1.1 client over a plain TCP socket: sends exactly the bytes a test
/// writes (no normalisation of paths or headers) and parses what comes back.
struct RawResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
    func headers(_ name: String) -> [String] {
        headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
    }
    var text: String { String(decoding: body, as: UTF8.self) }
}

enum RawHTTP {
    /// Sends `request` and reads until the server closes the connection or `timeout` passes.
    static func exchange(port: Int, _ request: String, timeout: TimeAmount = .seconds(10)) async throws -> [UInt8] {
        try await exchange(port: port, Array(request.utf8), timeout: timeout)
    }

    static func exchange(port: Int, _ request: [UInt8], timeout: TimeAmount = .seconds(10)) async throws -> [UInt8] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let deadline = ContinuousClock.now + .nanoseconds(timeout.nanoseconds)
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: request))
            return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                group.addTask {
                    try await Task.sleep(until: deadline)
                    return nil
                }
                group.addTask {
                    var received: [UInt8] = []
                    do {
                        for try await buffer in inbound {
                            received.append(contentsOf: buffer.readableBytesView)
                        }
                    } catch {
                        // A reset after the response still leaves what was received.
                    }
                    return received
                }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let bytes = result { return bytes }
                    throw TimeoutError()
                }
                return []
            }
        }
    }

    /// A `GET`-style request with `Connection: close`, parsed.
    static func send(port: Int, _ request: String, timeout: TimeAmount = .seconds(10)) async throws -> RawResponse {
        try parse(try await exchange(port: port, request, timeout: timeout))
    }

    struct ParseError: Error { let reason: String }
    struct TimeoutError: Error {}

    /// Parses one response (Content-Length, chunked, or close-delimited).
    static func parse(_ bytes: [UInt8]) throws -> RawResponse {
        guard let headerEnd = find([13, 10, 13, 10], in: bytes, from: 0) else { throw ParseError(reason: "no header end in \(String(decoding: bytes.prefix(200), as: UTF8.self))") }
        let headerText = String(decoding: bytes[..<headerEnd], as: UTF8.self)
        var lines = headerText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw ParseError(reason: "bad status line \(statusLine)") }
        var headers: [(String, String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var body = Array(bytes[(headerEnd + 4)...])
        let response = RawResponse(status: status, headers: headers, body: [])
        if response.header("transfer-encoding")?.lowercased() == "chunked" {
            body = try dechunk(body)
        } else if let length = response.header("content-length").flatMap(Int.init) {
            body = Array(body.prefix(length))
        }
        return RawResponse(status: status, headers: headers, body: body)
    }

    static func dechunk(_ data: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while true {
            guard let lineEnd = find([13, 10], in: data, from: i) else { throw ParseError(reason: "bad chunk") }
            let sizeText = String(decoding: data[i..<lineEnd], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
            guard let size = Int(sizeText, radix: 16) else { throw ParseError(reason: "bad chunk size \(sizeText)") }
            i = lineEnd + 2
            if size == 0 { return out }
            out.append(contentsOf: data[i..<(i + size)])
            i += size + 2
        }
    }

    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        guard hay.count >= needle.count else { return nil }
        var i = from
        while i <= hay.count - needle.count {
            if hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }
}

import Foundation

/// One keep-alive client connection: several requests, one after another, on the same socket.
final class KeepAliveConnection {
    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var pending: [UInt8] = []

    init(port: Int) async throws {
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        iterator = channel.inbound.makeAsyncIterator()
    }

    /// Sends a request and reads exactly one response (framed by Content-Length).
    func send(_ request: String) async throws -> RawResponse {
        try await channel.outbound.write(ByteBuffer(string: request))
        while true {
            if let end = RawHTTP.find([13, 10, 13, 10], in: pending, from: 0) {
                let head = String(decoding: pending[..<end], as: UTF8.self).lowercased()
                let length = head.components(separatedBy: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if pending.count >= end + 4 + length {
                    let message = Array(pending[..<(end + 4 + length)])
                    pending.removeFirst(end + 4 + length)
                    return try RawHTTP.parse(message)
                }
            }
            guard let buffer = try await iterator.next() else { throw RawHTTP.ParseError(reason: "connection closed") }
            pending.append(contentsOf: buffer.readableBytesView)
        }
    }

    /// Writes raw bytes (a request whose answer is a stream).
    func write(_ text: String) async throws {
        try await channel.outbound.write(ByteBuffer(string: text))
    }

    /// Reads until `marker` has arrived (or 10 s pass); returns everything read so far.
    func readUntil(_ marker: String, timeout: Duration = .seconds(10)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while !String(decoding: pending, as: UTF8.self).contains(marker) {
            guard ContinuousClock.now < deadline else { throw RawHTTP.ParseError(reason: "'\(marker)' did not arrive") }
            guard let buffer = try await iterator.next() else { throw RawHTTP.ParseError(reason: "connection closed") }
            pending.append(contentsOf: buffer.readableBytesView)
        }
        let text = String(decoding: pending, as: UTF8.self)
        pending.removeAll()
        return text
    }

    func writeBytes(_ bytes: [UInt8]) async throws {
        try await channel.outbound.write(ByteBuffer(bytes: bytes))
    }

    /// The next bytes from the socket (nil once it closed), after any already buffered.
    func readRaw() async throws -> [UInt8]? {
        if !pending.isEmpty {
            defer { pending.removeAll() }
            return pending
        }
        guard let buffer = try await iterator.next() else { return nil }
        return Array(buffer.readableBytesView)
    }

    func close() async { try? await channel.channel.close() }
}
