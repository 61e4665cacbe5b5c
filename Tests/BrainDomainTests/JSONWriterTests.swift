import Foundation
import Testing

@testable import BrainDomain

/// The byte writer that stores every run transition: what it writes must read back as the same
/// value (our parser) and be JSON to anyone else (Foundation's), for any text a backend sends.
@Suite struct JSONWriterTests {
    /// SplitMix64: a fixed seed gives the same values on every run.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

        /// Text with what needs escaping: quotes, backslashes, every control character, and
        /// multi-byte scalars (accents, CJK, emoji).
        mutating func text() -> String {
            let pieces: [String] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{1f}", "\u{7f}", "é", "中", "😀", "\u{2028}"]
            var s = ""
            for _ in 0..<below(12) {
                if below(6) == 0 {
                    s.unicodeScalars.append(Unicode.Scalar(UInt8(below(0x20))))
                } else {
                    s += pieces[below(pieces.count)]
                }
            }
            return s
        }

        mutating func value(depth: Int = 0) -> JSONValue {
            switch below(depth > 3 ? 4 : 6) {
            case 0: return .null
            case 1: return .bool(below(2) == 0)
            case 2:
                let numbers: [Double] = [0, -0.5, 1, -17, 81, 1e15 - 1, 123.456, 1e-7, 2.5e20, Double(below(1_000_000)) / 8]
                return .number(numbers[below(numbers.count)])
            case 3: return .string(text())
            case 4: return .array((0..<below(5)).map { _ in value(depth: depth + 1) })
            default:
                var members: [String: JSONValue] = [:]
                for _ in 0..<below(5) { members[text()] = value(depth: depth + 1) }
                return .object(members)
            }
        }
    }

    @Test func whatItWritesReadsBackAsTheSameValueAndIsJSON() throws {
        var generator = Generator(state: 20_261_201)
        for _ in 0..<3_000 {
            let value = generator.value()
            for sorted in [true, false] {
                var writer = JSONWriter()
                writer.write(value, sortedKeys: sorted)
                #expect(try JSONParser.parse(writer.bytes) == value, "\(writer.text)")
                #expect((try? JSONSerialization.jsonObject(with: Data(writer.bytes), options: [.fragmentsAllowed])) != nil, "\(writer.text)")
            }
        }
    }

    @Test func escapesAreTheShortOnesAndControlsAreHex() {
        var writer = JSONWriter()
        writer.string("a\"b\\c\nd\re\tf\u{1}g\u{1f}é")
        #expect(writer.text == #""a\"b\\c\nd\re\tf\u0001g\u001fé""#)
        #expect(JSONValue.object(["b": .number(2), "a": .array([.number(1.5), .null, .bool(true)])]).json == #"{"a":[1.5,null,true],"b":2}"#)
        var numbers = JSONWriter()
        for n in [0.0, -0.0, -42, 1e15 - 1, 1e15, .infinity] {
            numbers.number(n)
            numbers.raw(",")
        }
        #expect(numbers.text == "0,0,-42,999999999999999,1000000000000000.0,null,")
    }
}
