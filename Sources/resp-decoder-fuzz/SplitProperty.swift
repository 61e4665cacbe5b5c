import BrainRESP
import NIOCore

/// The decoder's framing property: however the bytes are cut into reads, the replies (and
/// whether the stream ends in a refusal) are those of the bytes read at once.
enum SplitProperty {
    struct Outcome: Equatable {
        var replies: [String]
        var refused: Bool
    }

    static let limits = RESPDecoder.Limits(maxBulkBytes: 1 << 16, maxElements: 1 << 10, maxDepth: 16, maxLineBytes: 256)

    static func decode(_ pieces: [ArraySlice<UInt8>]) -> Outcome {
        var decoder = RESPDecoder(limits: limits)
        var outcome = Outcome(replies: [], refused: false)
        for piece in pieces {
            decoder.read(ByteBuffer(bytes: piece))
            do {
                while let reply = try decoder.next() { outcome.replies.append(String(describing: reply)) }
            } catch {
                outcome.refused = true
                return outcome
            }
        }
        return outcome
    }

    /// A description of the first difference, or nil when every way of reading agrees: at
    /// once, cut where the first byte says, and byte by byte.
    static func violation(_ bytes: [UInt8]) -> String? {
        let whole = decode([bytes[...]])
        let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        let two = decode([bytes[..<cut], bytes[cut...]])
        let single = decode(bytes.indices.map { bytes[$0...$0] })
        if two != whole { return "cut at \(cut): \(two) vs whole \(whole)" }
        if single != whole { return "byte by byte: \(single) vs whole \(whole)" }
        return nil
    }
}
