import Foundation
import SeqbridgeCore
import SeqbridgeStore

/// The status report's formats (SPEC §4: columns, order and names are stable).
public enum ReportFormat: String, Sendable, CaseIterable {
    case csv
    case jsonl
}

public enum Report {
    public static let columns = [
        "email", "name", "sequence", "status", "reason", "steps_sent", "steps_total", "enrolled_at",
        "last_sent_at", "next_send_at", "finished_at", "detail",
    ]

    static func values(_ row: ExportRow) -> [String?] {
        [
            row.email, row.name, row.sequence, row.status.rawValue, row.reason?.rawValue, String(row.stepsSent),
            String(row.stepsTotal), row.enrolledAt.iso8601, row.lastSentAt?.iso8601, row.nextSendAt?.iso8601,
            row.finishedAt?.iso8601, row.detail,
        ]
    }

    public static func csvHeader() -> String { columns.joined(separator: ",") + "\r\n" }

    /// One RFC 4180 record. A cell a spreadsheet would read as a formula
    /// (starting with `=`, `+`, `-`, `@`, tab or CR) gets a leading apostrophe.
    public static func csvLine(_ row: ExportRow) -> String {
        var bytes: [UInt8] = []
        appendCSV(row, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// ``csvLine(_:)`` written into a byte buffer.
    public static func appendCSV(_ row: ExportRow, to bytes: inout [UInt8]) {
        appendCell(row.email, to: &bytes)
        bytes.append(44)
        appendCell(row.name, to: &bytes)
        bytes.append(44)
        appendCell(row.sequence, to: &bytes)
        bytes.append(44)
        bytes.append(contentsOf: row.status.rawValue.utf8)
        bytes.append(44)
        if let reason = row.reason { bytes.append(contentsOf: reason.rawValue.utf8) }
        bytes.append(44)
        appendInteger(row.stepsSent, to: &bytes)
        bytes.append(44)
        appendInteger(row.stepsTotal, to: &bytes)
        bytes.append(44)
        row.enrolledAt.appendISO8601(to: &bytes)
        for time in [row.lastSentAt, row.nextSendAt, row.finishedAt] {
            bytes.append(44)
            time?.appendISO8601(to: &bytes)
        }
        bytes.append(44)
        appendCell(row.detail, to: &bytes)
        bytes.append(contentsOf: [13, 10])
    }

    static func appendInteger(_ value: Int, to bytes: inout [UInt8]) {
        if value >= 0, value < 10 {
            bytes.append(UInt8(48 + value))
        } else {
            bytes.append(contentsOf: String(value).utf8)
        }
    }

    static func csvCell(_ raw: String) -> String {
        var bytes: [UInt8] = []
        appendCell(raw, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let formulaStarts: Set<UInt8> = [61, 43, 45, 64, 9, 13]

    static func appendCell(_ raw: String?, to bytes: inout [UInt8]) {
        guard let raw, let first = raw.utf8.first else { return }
        let neutralise = formulaStarts.contains(first)
        let quote = raw.utf8.contains { $0 == 44 || $0 == 34 || $0 == 10 || $0 == 13 }
        if quote { bytes.append(34) }
        if neutralise { bytes.append(39) }
        if quote {
            for byte in raw.utf8 {
                if byte == 34 { bytes.append(34) }
                bytes.append(byte)
            }
            bytes.append(34)
        } else {
            bytes.append(contentsOf: raw.utf8)
        }
    }

    /// One JSON object per line with the same keys as the CSV columns; absent values are null.
    public static func jsonLine(_ row: ExportRow) -> String {
        var parts: [String] = []
        parts.reserveCapacity(columns.count)
        for (column, value) in zip(columns, values(row)) {
            let encoded: String
            if let value {
                encoded = column == "steps_sent" || column == "steps_total" ? value : jsonString(value)
            } else {
                encoded = "null"
            }
            parts.append("\"\(column)\":\(encoded)")
        }
        return "{" + parts.joined(separator: ",") + "}\n"
    }

    public static func jsonString(_ value: String) -> String { SeqbridgeStore.jsonString(value) }
}

/// Writes text to a file atomically (a temporary file beside it, renamed at
/// the end) or to standard output, buffering to keep system calls few.
public final class ReportSink: @unchecked Sendable {
    private let handle: FileHandle
    private let temporaryPath: String?
    private let finalPath: String?
    private var buffer: [UInt8] = []

    public init(path: String?) throws {
        guard let path else {
            handle = FileHandle.standardOutput
            temporaryPath = nil
            finalPath = nil
            return
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial").path
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
            let handle = FileHandle(forWritingAtPath: temporary)
        else { throw AppError.cannotWrite(path, why: "its folder does not exist or is not writable") }
        self.handle = handle
        temporaryPath = temporary
        finalPath = path
        buffer.reserveCapacity(1 << 16)
    }

    public func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Hands the buffer to `fill` to append to directly.
    public func write(_ fill: (inout [UInt8]) -> Void) throws {
        fill(&buffer)
        if buffer.count >= 1 << 16 { try flush() }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and, for a file, moves it into place.
    public func finish() throws {
        try flush()
        guard let temporaryPath, let finalPath else { return }
        try handle.synchronize()
        try handle.close()
        guard rename(temporaryPath, finalPath) == 0 else {
            throw AppError.cannotWrite(finalPath, why: String(cString: strerror(errno)))
        }
    }

    /// Removes a half-written temporary file after a failure.
    public func abandon() {
        guard let temporaryPath else { return }
        try? handle.close()
        unlink(temporaryPath)
    }
}

extension Engine {
    /// Streams the status report to `path` (or standard output); returns the row count.
    public func export(format: ReportFormat, filter: ExportFilter, to path: String?) async throws -> Int {
        let sink = try ReportSink(path: path)
        let counter = RowCounter()
        do {
            if format == .csv { try sink.write(Report.csvHeader()) }
            try await store.exportRows(filter) { row in
                if format == .csv {
                    try sink.write { Report.appendCSV(row, to: &$0) }
                } else {
                    try sink.write(Report.jsonLine(row))
                }
                counter.count += 1
            }
            try sink.finish()
        } catch {
            sink.abandon()
            throw error
        }
        return counter.count
    }
}

final class RowCounter: @unchecked Sendable {
    var count = 0
}
