/// A gauge family written straight into the Prometheus text exposition at scrape time — the
/// "collector" pattern: the values (breaker states, health) are read from the boards that own
/// them when `/metrics` is scraped, and only series that exist now are written. Registering one
/// swift-metrics gauge per service and instance instead cost O(series) per new series inside
/// swift-prometheus (its family is copied on each insert: 4 s for the first scrape of 10,000
/// services) and kept the series of removed services and instances forever.
public struct GaugeFamilyText: Sendable {
    public private(set) var bytes: [UInt8] = []
    private let name: [UInt8]

    /// - Parameter type: `gauge`, or `counter` for a total kept elsewhere.
    public init(name: String, help: String, type: String = "gauge") {
        bytes.append(contentsOf: "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n".utf8)
        self.name = Array(name.utf8)
    }

    /// One series: `name{label="value",…} value`, label values escaped as the text format asks
    /// (backslash, double quote, line feed).
    public mutating func sample(_ labels: KeyValuePairs<String, String>, _ value: Double) {
        bytes.append(contentsOf: name)
        if !labels.isEmpty {
            bytes.append(UInt8(ascii: "{"))
            for (index, (label, text)) in labels.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                bytes.append(contentsOf: label.utf8)
                bytes.append(contentsOf: #"=""#.utf8)
                for byte in text.utf8 {
                    switch byte {
                    case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
                    case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
                    case UInt8(ascii: "\n"): bytes.append(contentsOf: #"\n"#.utf8)
                    default: bytes.append(byte)
                    }
                }
                bytes.append(UInt8(ascii: "\""))
            }
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: "\(value)".utf8)
        bytes.append(UInt8(ascii: "\n"))
    }
}
