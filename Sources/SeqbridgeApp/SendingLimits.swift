import Foundation
import SeqbridgeCore
import SeqbridgeStore

/// A mailbox's sending limits: a daily cap, a minimum spacing between two
/// sends and a window of days and hours, all in the mailbox's IANA time zone
/// (so a window stays 09:00-17:00 local across daylight-saving changes).
public struct SendingLimits: Sendable, Equatable {
    public var dailyCap: Int?
    public var minSpacingSeconds: Int64?
    public var window: SendingWindow?
    /// Days and hours are counted in the mailbox's time zone.
    let calendar: Calendar

    public var timeZone: TimeZone { calendar.timeZone }

    public var isEmpty: Bool { dailyCap == nil && minSpacingSeconds == nil && window == nil }

    public init(definition: MailboxDefinition) {
        dailyCap = definition.dailyCap
        minSpacingSeconds = definition.minSpacingSeconds
        window = definition.sendWindow.flatMap { try? SendingWindow(parsing: $0) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = definition.timeZone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
        self.calendar = calendar
    }

    static func date(_ time: Timestamp) -> Date {
        Date(timeIntervalSince1970: Double(time.millisecondsSinceEpoch) / 1000)
    }

    static func timestamp(_ date: Date) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }

    /// Local midnight at the start of the day `time` falls in.
    public func startOfDay(_ time: Timestamp) -> Timestamp {
        Self.timestamp(calendar.startOfDay(for: Self.date(time)))
    }

    /// Local midnight at the start of the next day.
    public func startOfNextDay(_ time: Timestamp) -> Timestamp {
        let today = calendar.startOfDay(for: Self.date(time))
        return Self.timestamp(calendar.date(byAdding: .day, value: 1, to: today) ?? today.addingTimeInterval(86_400))
    }

    public func isOpen(_ time: Timestamp) -> Bool {
        guard let window else { return true }
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: Self.date(time))
        guard let weekday = parts.weekday, let hour = parts.hour, let minute = parts.minute else { return true }
        let minutes = hour * 60 + minute
        return window.days.contains(weekday) && minutes >= window.startMinutes && minutes < window.endMinutes
    }

    /// The first moment at or after `time` inside the window.
    public func nextOpening(_ time: Timestamp) -> Timestamp {
        guard let window, !isOpen(time) else { return time }
        let start = Self.date(time)
        for offset in 0...8 {
            guard let day = calendar.date(byAdding: .day, value: offset, to: calendar.startOfDay(for: start)) else {
                continue
            }
            let weekday = calendar.component(.weekday, from: day)
            guard window.days.contains(weekday),
                let opening = calendar.date(
                    bySettingHour: window.startMinutes / 60, minute: window.startMinutes % 60, second: 0, of: day)
            else { continue }
            if opening >= start { return Self.timestamp(opening) }
        }
        return time
    }
}

/// Days of the week and hours: `mon-fri 09:00-17:00`, `mon,wed,fri 10:00-12:00`, `daily 08:00-20:00`.
public struct SendingWindow: Sendable, Equatable, CustomStringConvertible {
    /// Calendar weekdays: 1 is Sunday, 7 is Saturday.
    public var days: Set<Int>
    public var startMinutes: Int
    public var endMinutes: Int
    let text: String

    public var description: String { text }

    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public init(parsing text: String) throws(AppError) {
        let problem = AppError.badField(
            field: "--window", value: text, why: "write it as mon-fri 09:00-17:00 (days, then hours in the time zone)")
        let pieces = text.lowercased().split(separator: " ").map(String.init)
        guard pieces.count == 2 else { throw problem }
        var days = Set<Int>()
        if pieces[0] == "daily" || pieces[0] == "every-day" {
            days = Set(1...7)
        } else {
            for item in pieces[0].split(separator: ",") {
                let range = item.split(separator: "-").map { String($0.prefix(3)) }
                guard let first = range.first.flatMap({ Self.dayNames.firstIndex(of: $0) }) else { throw problem }
                let last = range.count == 2 ? Self.dayNames.firstIndex(of: range[1]) : first
                guard let last, range.count <= 2 else { throw problem }
                var day = first
                while true {
                    days.insert(day + 1)
                    if day == last { break }
                    day = (day + 1) % 7
                }
            }
        }
        let hours = pieces[1].split(separator: "-")
        func minutes(_ value: Substring) -> Int? {
            let parts = value.split(separator: ":")
            guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0...24).contains(hour),
                (0..<60).contains(minute), hour * 60 + minute <= 24 * 60
            else { return nil }
            return hour * 60 + minute
        }
        guard hours.count == 2, let start = minutes(hours[0]), let end = minutes(hours[1]), start < end else {
            throw problem
        }
        self.days = days
        startMinutes = start
        endMinutes = end
        self.text = text
    }
}
