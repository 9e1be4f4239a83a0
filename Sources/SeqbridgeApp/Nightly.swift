import Foundation
import SeqbridgeCore
import SeqbridgeStore

/// The nightly status report: `seqbridge-report-YYYY-MM-DD.csv`, named for
/// the UTC day that just ended, with older reports removed past the retention.
public enum Nightly {
    public static let prefix = "seqbridge-report-"

    /// The report's file name for a run at `now`: the previous UTC day.
    public static func fileName(now: Timestamp) -> String {
        prefix + String(now.adding(seconds: -86_400).iso8601.prefix(10)) + ".csv"
    }

    /// The first time at `hour:minute` UTC strictly after `now`.
    public static func nextRun(after now: Timestamp, hour: Int, minute: Int) -> Timestamp {
        let day = Timestamp(iso8601: String(now.iso8601.prefix(10)))!
        let today = day.adding(seconds: Int64(hour * 3600 + minute * 60))
        return today > now ? today : today.adding(seconds: 86_400)
    }

    /// Parses `HH:MM`.
    public static func time(_ text: String) -> (hour: Int, minute: Int)? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0..<24).contains(hour),
            (0..<60).contains(minute)
        else { return nil }
        return (hour, minute)
    }

    /// Report files in `directory` older than the last `keepDays` days before `now`'s report.
    static func expired(in directory: String, now: Timestamp, keepDays: Int) throws -> [String] {
        let newest = String(fileName(now: now).dropFirst(prefix.count).prefix(10))
        guard let newestDay = Timestamp(iso8601: newest) else { return [] }
        let oldestKept = String(newestDay.adding(seconds: -Int64(max(keepDays, 1) - 1) * 86_400).iso8601.prefix(10))
        return try FileManager.default.contentsOfDirectory(atPath: directory).filter { name in
            guard name.hasPrefix(prefix), name.hasSuffix(".csv") else { return false }
            let date = String(name.dropFirst(prefix.count).dropLast(4))
            return Timestamp(iso8601: date) != nil && date.count == 10 && date < oldestKept
        }.sorted()
    }
}

extension Engine {
    public struct NightlyResult: Sendable, Hashable {
        public var path: String
        public var rows: Int
        public var removed: [String]
    }

    /// Writes tonight's report into `directory` and applies the retention.
    public func nightlyExport(directory: String, keepDays: Int?, now: Timestamp) async throws -> NightlyResult {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw AppError.cannotWrite(directory, why: "the folder cannot be created")
            }
        } else if !isDirectory.boolValue {
            throw AppError.cannotWrite(directory, why: "it is a file, not a folder")
        }
        let path = directory + "/" + Nightly.fileName(now: now)
        let rows = try await export(format: .csv, filter: ExportFilter(), to: path)
        var removed: [String] = []
        if let keepDays {
            for name in try Nightly.expired(in: directory, now: now, keepDays: keepDays) {
                try FileManager.default.removeItem(atPath: directory + "/" + name)
                removed.append(name)
            }
        }
        return NightlyResult(path: path, rows: rows, removed: removed)
    }
}
