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
    public init(_ raw: String) throws(Problem) {
        var text = Substring(raw).trimmingWhitespace
        if text.hasPrefix("<"), text.hasSuffix(">") { text = text.dropFirst().dropLast() }
        guard !text.isEmpty else { throw .empty }
        let lowered = text.lowercased()
        let parts = lowered.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw .invalid(String(text), why: parts.count < 2 ? "it has no @" : "it has more than one @")
        }
        let local = parts[0]
        let domain = parts[1]
        guard !local.isEmpty, local.utf8.count <= 64 else {
            throw .invalid(String(text), why: "the part before @ is empty or too long")
        }
        // ASCII only: outgoing mail does not use SMTPUTF8 or punycode.
        guard
            local.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "!#$%&'*+-/=?^_`{|}~.".contains($0)) }),
            !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..")
        else {
            throw .invalid(String(text), why: "the part before @ has characters an address cannot have (ASCII only)")
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, domain.utf8.count <= 253,
            labels.allSatisfy({ label in
                !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            })
        else { throw .invalid(String(text), why: "the domain '\(domain)' is not a valid domain name") }
        self.value = lowered
    }

    /// The domain part.
    public var domain: Substring { value[value.index(after: value.lastIndex(of: "@")!)...] }

    public var description: String { value }

    public static func < (lhs: EmailAddress, rhs: EmailAddress) -> Bool { lhs.value < rhs.value }
}

extension Substring {
    var trimmingWhitespace: Substring {
        var result = self
        while let first = result.first, first.isWhitespace { result = result.dropFirst() }
        while let last = result.last, last.isWhitespace { result = result.dropLast() }
        return result
    }
}
