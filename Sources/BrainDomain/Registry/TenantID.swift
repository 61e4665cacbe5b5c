/// A tenant identifier: a UUID in its canonical textual form, stored lowercased so two
/// spellings of one tenant never become two tenants.
public struct TenantID: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    public struct InvalidTenantID: Error, CustomStringConvertible {
        public let text: String
        public var description: String { "'\(text)' is not a UUID" }
    }

    public init(_ text: String) throws(InvalidTenantID) {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { throw InvalidTenantID(text: text) }
        for (i, b) in bytes.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard b == UInt8(ascii: "-") else { throw InvalidTenantID(text: text) }
            } else {
                let hex = (b >= 48 && b <= 57) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102)
                guard hex else { throw InvalidTenantID(text: text) }
            }
        }
        self.value = text.lowercased()
    }

    public var description: String { value }
}
