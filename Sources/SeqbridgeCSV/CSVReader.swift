import Foundation

/// A streaming RFC 4180 reader for spreadsheets as other tools write them:
/// UTF-8 with or without a byte order mark, `,` `;` or tab (detected from the
/// header line), quoted fields with doubled quotes and line breaks inside,
/// CRLF, LF or bare CR line ends.
///
/// Written by hand rather than taken from a CSV library: it works on bytes in
/// fixed-size chunks, so a million-row file streams at disk speed in constant
/// memory, and it reports the physical line where each record starts, which
/// the error report needs.
public final class CSVReader {
    /// One record and the line (1-based) where it starts.
    public struct Record: Sendable, Hashable {
        public var line: Int
        public var fields: [String]

        /// A line with nothing on it.
        public var isBlank: Bool { fields.allSatisfy(\.isEmpty) }
    }

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case unreadable(file: String, why: String)
        case notText(file: String, why: String)
        /// A record that cannot be read; reading goes on with the next one.
        case badRecord(line: Int, why: String)

        public var description: String {
            switch self {
            case .unreadable(let file, let why): "Cannot read \(file): \(why)."
            case .notText(let file, let why): "\(file) is not a UTF-8 text file: \(why)."
            case .badRecord(let line, let why): "line \(line): \(why)"
            }
        }
    }

    public let file: String
    public private(set) var delimiter: UInt8 = UInt8(ascii: ",")
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var position = 0
    private var endOfFile = false
    private var line = 1
    private var started = false
    private let chunkSize: Int
    /// Bytes read so far, for progress reports.
    public private(set) var bytesRead = 0

    public init(path: String, chunkSize: Int = 1 << 20) throws(Failure) {
        file = path
        self.chunkSize = chunkSize
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(file: path, why: "no such file")
        }
        guard !isDirectory.boolValue else { throw .unreadable(file: path, why: "it is a folder") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .unreadable(file: path, why: "permission denied")
        }
        self.handle = handle
    }

    deinit { try? handle.close() }

    /// Reads more bytes, keeping those not yet consumed. Returns false at end of file.
    private func fill() throws(Failure) -> Bool {
        guard !endOfFile else { return false }
        let chunk: Data
        do {
            chunk = try handle.read(upToCount: chunkSize) ?? Data()
        } catch {
            throw .unreadable(file: file, why: error.localizedDescription)
        }
        if chunk.isEmpty {
            endOfFile = true
            return false
        }
        bytesRead += chunk.count
        if position > 0 {
            buffer.removeSubrange(0..<position)
            position = 0
        }
        buffer.append(contentsOf: chunk)
        return true
    }

    /// Checks the start of the file: byte order marks, binary content, and the delimiter.
    private func start() throws(Failure) {
        started = true
        while buffer.count < 4, try fill() {}
        if buffer.starts(with: [0xEF, 0xBB, 0xBF]) {
            position = 3
        } else if buffer.starts(with: [0xFF, 0xFE]) || buffer.starts(with: [0xFE, 0xFF]) {
            throw .notText(file: file, why: "it is UTF-16; save it as UTF-8 (\"CSV UTF-8\" in most spreadsheets)")
        }
        // The header line decides the delimiter: the most frequent of , ; and tab outside quotes.
        var length = 0
        while true {
            while position + length < buffer.count, buffer[position + length] != 10, buffer[position + length] != 13 {
                length += 1
            }
            if position + length < buffer.count { break }
            // fill() may move the unread bytes to the front; `length` counts from `position`.
            guard try fill() else { break }
        }
        let header = buffer[position..<position + length]
        if header.contains(0) {
            throw .notText(file: file, why: "it holds binary data (NUL bytes) on line 1")
        }
        var counts: [UInt8: Int] = [UInt8(ascii: ","): 0, UInt8(ascii: ";"): 0, 9: 0]
        var quoted = false
        for byte in header {
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if !quoted, counts[byte] != nil { counts[byte]! += 1 }
        }
        if let best = counts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }),
            best.value > 0
        {
            delimiter = best.key
        }
    }

    /// The next record, or nil at the end of the file. A record that cannot
    /// be read throws ``Failure/badRecord(line:why:)``; calling again goes on.
    public func next() throws(Failure) -> Record? {
        if !started { try start() }
        while true {
            switch parse() {
            case .record(let record):
                return record
            case .needMore:
                if try fill() { continue }
                if position >= buffer.count { return nil }
                // The last record has no line end: parse it as if it had one.
                buffer.append(10)
                endOfFile = true
            case .failure(let failure, let resume, let lines):
                position = resume
                line += lines
                throw failure
            }
        }
    }

    private enum Step {
        case record(Record)
        case needMore
        case failure(Failure, resume: Int, lines: Int)
    }

    private static let quote = UInt8(ascii: "\"")

    /// Parses one record from `position`, or asks for more bytes when the
    /// buffer ends inside it (the record is then parsed again from its start).
    private func parse() -> Step {
        let count = buffer.count
        guard position < count else { return .needMore }
        let startLine = line
        let delimiter = self.delimiter
        return buffer.withUnsafeBufferPointer { bytes -> Step in
            var index = position
            var fields: [String] = []
            var field: [UInt8] = []
            var lines = 0
            var invalid = false
            func finishField() {
                if let text = String(validating: field, as: UTF8.self) {
                    fields.append(text)
                } else {
                    invalid = true
                    fields.append("")
                }
                field.removeAll(keepingCapacity: true)
            }
            while true {
                // Start of a field.
                guard index < count else { return .needMore }
                if bytes[index] == Self.quote {
                    index += 1
                    while true {
                        guard index < count else {
                            if endOfFile {
                                return .failure(
                                    .badRecord(line: startLine, why: "a quoted field is never closed"), resume: count,
                                    lines: lines)
                            }
                            return .needMore
                        }
                        let byte = bytes[index]
                        if byte == Self.quote {
                            guard index + 1 < count else { return .needMore }
                            if bytes[index + 1] == Self.quote {
                                field.append(Self.quote)
                                index += 2
                                continue
                            }
                            index += 1
                            break
                        }
                        if byte == 10 || (byte == 13 && (index + 1 >= count || bytes[index + 1] != 10)) { lines += 1 }
                        field.append(byte)
                        index += 1
                    }
                    // Text after the closing quote (`"a"b`) is kept, as spreadsheets do.
                    while index < count, bytes[index] != delimiter, bytes[index] != 10, bytes[index] != 13 {
                        field.append(bytes[index])
                        index += 1
                    }
                    guard index < count else { return .needMore }
                    finishField()
                } else {
                    // Unquoted: the field is a slice of the buffer, decoded without a copy.
                    let start = index
                    while index < count, bytes[index] != delimiter, bytes[index] != 10, bytes[index] != 13 {
                        index += 1
                    }
                    guard index < count else { return .needMore }
                    if let text = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                    {
                        fields.append(text)
                    } else {
                        invalid = true
                        fields.append("")
                    }
                }
                let byte = bytes[index]
                if byte == delimiter {
                    index += 1
                    continue
                }
                // A line end: CRLF, LF or a bare CR.
                if byte == 13 {
                    guard index + 1 < count else {
                        if endOfFile {
                            index += 1
                            break
                        }
                        return .needMore
                    }
                    index += bytes[index + 1] == 10 ? 2 : 1
                } else {
                    index += 1
                }
                lines += 1
                break
            }
            position = index
            line = startLine + lines
            if invalid {
                return .failure(
                    .badRecord(line: startLine, why: "it is not valid UTF-8; save the file as UTF-8"), resume: index,
                    lines: 0)
            }
            return .record(Record(line: startLine, fields: fields))
        }
    }
}
