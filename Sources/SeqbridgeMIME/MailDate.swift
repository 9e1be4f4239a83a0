/// RFC 5322 dates (`Mon, 2 Nov 2026 10:00:00 +0000`) with the obsolete forms
/// real mail still uses: no weekday, two-digit years, named zones, missing
/// seconds, comments after the zone.
public enum MailDate {
    /// Milliseconds since 1970, or nil when the text is not a date.
    public static func parse(_ text: String) -> Int64? {
        var bytes = Array(text.utf8)
        if let paren = bytes.firstIndex(of: 40) { bytes.removeSubrange(paren...) }
        var day: Int?
        var month: Int?
        var year: Int?
        var time: (Int, Int, Int)?
        var offsetMinutes = 0
        for token in bytes.split(whereSeparator: { $0 == 32 || $0 == 44 || $0 == 9 || $0 == 10 || $0 == 13 }) {
            let first = token[token.startIndex]
            if time == nil, token.contains(58) {
                let pieces = token.split(separator: 58, omittingEmptySubsequences: false).map(number)
                guard pieces.count >= 2, let h = pieces[0], let m = pieces[1] else { return nil }
                time = (h, m, pieces.count > 2 ? (pieces[2] ?? 0) : 0)
            } else if first &- 48 < 10, let value = number(token) {
                if day == nil, value >= 1, value <= 31, month == nil || year == nil {
                    day = value
                } else if year == nil {
                    year = value < 50 ? 2000 + value : (value < 1000 ? 1900 + value : value)
                }
            } else if first == 43 || first == 45, token.count == 5, let value = number(token.dropFirst()) {
                let sign = first == 45 ? -1 : 1
                offsetMinutes = sign * ((value / 100) * 60 + value % 100)
            } else if month == nil, token.count >= 3,
                let index = months.firstIndex(of: String(decoding: Bytes.lowercased(token.prefix(3)), as: UTF8.self))
            {
                month = index + 1
            } else if token.count <= 4, let zone = zones[String(decoding: token, as: UTF8.self).uppercased()] {
                offsetMinutes = zone * 60
            }
        }
        guard let day, let month, let year, let time, (1...12).contains(month), time.0 < 24, time.1 < 60,
            time.2 < 61, (1900...9999).contains(year)
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(time.0 * 3600 + time.1 * 60 + time.2) - Int64(offsetMinutes * 60)
        return seconds * 1000
    }

    /// A decimal number of up to 9 digits, or nil.
    static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 9 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte &- 48 < 10 else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }

    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let zones: [String: Int] = [
        "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
        "PST": -8, "PDT": -7, "JST": 9, "CET": 1, "CEST": 2, "BST": 1,
    ]

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
