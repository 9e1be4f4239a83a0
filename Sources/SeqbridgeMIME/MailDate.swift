/// RFC 5322 dates (`Mon, 2 Nov 2026 10:00:00 +0000`) with the obsolete forms
/// real mail still uses: no weekday, two-digit years, named zones, missing
/// seconds, comments after the zone.
public enum MailDate {
    /// Milliseconds since 1970, or nil when the text is not a date.
    public static func parse(_ text: String) -> Int64? {
        var bytes = Array(text.utf8)
        if let paren = bytes.firstIndex(of: 40) { bytes.removeSubrange(paren...) }
        let tokens = bytes.split(whereSeparator: { $0 == 32 || $0 == 44 || $0 == 9 || $0 == 10 || $0 == 13 }).map {
            Substring(String(decoding: $0, as: UTF8.self))
        }
        var day: Int?
        var month: Int?
        var year: Int?
        var time: (Int, Int, Int)?
        var offsetMinutes = 0
        for token in tokens {
            if time == nil, token.contains(":") {
                let pieces = token.split(separator: ":").map { Int($0) }
                guard pieces.count >= 2, let h = pieces[0], let m = pieces[1] else { return nil }
                let s = pieces.count > 2 ? (pieces[2] ?? 0) : 0
                time = (h, m, s)
            } else if let number = Int(token), token.first != "+", token.first != "-" {
                if day == nil, number >= 1, number <= 31, month == nil || year == nil {
                    day = number
                } else if year == nil {
                    year = number < 50 ? 2000 + number : (number < 1000 ? 1900 + number : number)
                }
            } else if month == nil, let index = months.firstIndex(of: token.prefix(3).lowercased()) {
                month = index + 1
            } else if token.first == "+" || token.first == "-", token.count == 5, let value = Int(token.dropFirst()) {
                let sign = token.first == "-" ? -1 : 1
                offsetMinutes = sign * ((value / 100) * 60 + value % 100)
            } else if let zone = zones[token.uppercased()] {
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
