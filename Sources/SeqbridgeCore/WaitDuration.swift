/// A step's "time to wait", written as in sequence files: `90s`, `30m`, `1h`,
/// `3d`, `2w`, or several parts together such as `1d 12h`. `0` means no wait.
public struct WaitDuration: Sendable, Hashable, CustomStringConvertible {
    public var seconds: Int64

    public init(seconds: Int64) {
        self.seconds = seconds
    }

    public enum ParseError: Error, Equatable, Sendable {
        case empty
        case invalid(String)
    }

    private static let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]

    /// Parses `text`; throws ``ParseError`` naming what it could not read.
    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard !trimmed.isEmpty else { throw .empty }
        if trimmed.count == 1, trimmed[0] == "0" {
            self.seconds = 0
            return
        }
        var total: Int64 = 0
        for part in trimmed {
            var digits = Substring(part)
            guard let unit = digits.popLast(), let factor = Self.units[Character(unit.lowercased())],
                !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int64(digits), value >= 0,
                value <= 10_000_000
            else { throw .invalid(String(part)) }
            total += value * factor
        }
        self.seconds = total
    }

    /// The shortest spelling that parses back to the same value.
    public var description: String {
        if seconds == 0 { return "0" }
        var rest = seconds
        var parts: [String] = []
        for (unit, factor) in [("w", Int64(604_800)), ("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)]
        where rest >= factor {
            parts.append("\(rest / factor)\(unit)")
            rest %= factor
        }
        return parts.joined(separator: " ")
    }
}
