/// An influencer's address in the one form we store and compare.
public struct EmailAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let value: String

    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case empty
        case invalid(String, why: String)

        public var description: String {
            switch self {
            case .empty: "The address is empty."
            case .invalid(let value, let why): "'\(value)' is not a usable address: \(why)."
            }
        }
    }

    /// Trims white space and angle brackets, lower-cases, and checks the syntax
    /// an outreach list needs: one `@`, a plausible local part, a dotted domain.
    /// ASCII only: outgoing mail does not use SMTPUTF8 or punycode. Works on
    /// bytes, since imports check a million addresses at a time.
    public init(_ raw: String) throws(Problem) {
        var bytes = Array(raw.utf8)
        while let last = bytes.last, last == 32 || last == 9 || last == 10 || last == 13 { bytes.removeLast() }
        var start = 0
        while start < bytes.count, bytes[start] == 32 || bytes[start] == 9 || bytes[start] == 10 || bytes[start] == 13 {
            start += 1
        }
        bytes.removeFirst(start)
        if bytes.first == UInt8(ascii: "<"), bytes.last == UInt8(ascii: ">"), bytes.count >= 2 {
            bytes.removeFirst()
            bytes.removeLast()
        }
        guard !bytes.isEmpty else { throw .empty }
        let shown = String(decoding: bytes, as: UTF8.self)
        for index in bytes.indices where bytes[index] >= 65 && bytes[index] <= 90 { bytes[index] += 32 }
        let ats = bytes.indices.filter { bytes[$0] == UInt8(ascii: "@") }
        guard ats.count == 1, let at = ats.first else {
            throw .invalid(shown, why: ats.isEmpty ? "it has no @" : "it has more than one @")
        }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        guard !local.isEmpty, local.count <= 64 else {
            throw .invalid(shown, why: "the part before @ is empty or too long")
        }
        guard local.allSatisfy(Self.isLocalByte), local.first != 46, local.last != 46,
            !zip(local, local.dropFirst()).contains(where: { $0 == 46 && $1 == 46 })
        else {
            throw .invalid(shown, why: "the part before @ has characters an address cannot have (ASCII only)")
        }
        let labels = domain.split(separator: 46, omittingEmptySubsequences: false)
        guard labels.count >= 2, domain.count <= 253,
            labels.allSatisfy({ label in
                !label.isEmpty && label.count <= 63 && label.first != 45 && label.last != 45
                    && label.allSatisfy(Self.isDomainByte)
            })
        else {
            throw .invalid(
                shown, why: "the domain '\(String(decoding: domain, as: UTF8.self))' is not a valid domain name")
        }
        self.value = String(decoding: bytes, as: UTF8.self)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90)
    }

    private static let localSpecials = Set("!#$%&'*+-/=?^_`{|}~.".utf8)

    private static func isLocalByte(_ byte: UInt8) -> Bool { isAlphanumeric(byte) || localSpecials.contains(byte) }

    private static func isDomainByte(_ byte: UInt8) -> Bool { isAlphanumeric(byte) || byte == 45 }

    /// The domain part.
    public var domain: Substring { value[value.index(after: value.lastIndex(of: "@")!)...] }

    public var description: String { value }

    public static func < (lhs: EmailAddress, rhs: EmailAddress) -> Bool { lhs.value < rhs.value }
}
