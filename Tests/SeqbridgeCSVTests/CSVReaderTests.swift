import Foundation
import Testing

@testable import SeqbridgeCSV

func write(_ bytes: [UInt8]) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("csv-\(UUID().uuidString).csv").path
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
}

func write(_ text: String) throws -> String { try write(Array(text.utf8)) }

/// Every record, with failures as `line N: why` strings in their place.
func readAll(_ path: String, chunkSize: Int = 1 << 20) throws -> [Either] {
    let reader = try CSVReader(path: path, chunkSize: chunkSize)
    var out: [Either] = []
    while true {
        do {
            guard let record = try reader.next() else { return out }
            out.append(.record(record.line, record.fields))
        } catch {
            guard case .badRecord(let line, let why) = error else { throw error }
            out.append(.failure("line \(line): \(why)"))
        }
    }
}

enum Either: Equatable, CustomStringConvertible {
    case record(Int, [String])
    case failure(String)

    var description: String {
        switch self {
        case .record(let line, let fields): "\(line):\(fields)"
        case .failure(let why): why
        }
    }
}

@Suite("CSV reader")
struct CSVReaderTests {
    @Test(arguments: [1, 3, 7, 1 << 20])
    func quotedNewlinesDoubledQuotesAndLineNumbers(chunkSize: Int) throws {
        let path = try write(
            "email,name,note\r\na@x.example,\"Lima, Ana\",\"two\r\nlines\"\r\nb@x.example,\"say \"\"hi\"\"\",\r\n")
        #expect(
            try readAll(path, chunkSize: chunkSize) == [
                .record(1, ["email", "name", "note"]),
                .record(2, ["a@x.example", "Lima, Ana", "two\r\nlines"]),
                .record(4, ["b@x.example", "say \"hi\"", ""]),
            ])
    }

    @Test func semicolonsWithBOMAndLF() throws {
        let path = try write([0xEF, 0xBB, 0xBF] + Array("Email;Name\nchloé@x.example;Chloé\n".utf8))
        let reader = try CSVReader(path: path)
        #expect(try reader.next()?.fields == ["Email", "Name"])
        #expect(reader.delimiter == UInt8(ascii: ";"))
        #expect(try reader.next()?.fields == ["chloé@x.example", "Chloé"])
        #expect(try reader.next() == nil)
    }

    @Test func tabsBareCRAndNoFinalLineEnd() throws {
        let path = try write("email\tname\ra@x.example\tA\r\rb@x.example\tB")
        #expect(
            try readAll(path) == [
                .record(1, ["email", "name"]), .record(2, ["a@x.example", "A"]), .record(3, [""]),
                .record(4, ["b@x.example", "B"]),
            ])
    }

    @Test func badBytesFailOneRecordAndReadingGoesOn() throws {
        let path = try write(
            Array("email,name\na@x.example,Ana\n".utf8) + [0x62, 0x40, 0xE9, 0x2C, 0x42, 0x0A]
                + Array("c@x.example,C\n".utf8))
        #expect(
            try readAll(path) == [
                .record(1, ["email", "name"]), .record(2, ["a@x.example", "Ana"]),
                .failure("line 3: it is not valid UTF-8; save the file as UTF-8"), .record(4, ["c@x.example", "C"]),
            ])
    }

    @Test func unclosedQuoteIsARecordError() throws {
        let path = try write("email,name\na@x.example,\"Ana\nb@x.example,B\n")
        #expect(
            try readAll(path) == [
                .record(1, ["email", "name"]), .failure("line 2: a quoted field is never closed"),
            ])
    }

    @Test func utf16AndBinaryFilesAreRefusedWhole() throws {
        let utf16 = try write([0xFF, 0xFE] + Array("e\0m\0".utf8))
        #expect(throws: CSVReader.Failure.self) { _ = try readAll(utf16) }
        let binary = try write([0x50, 0x4B, 0x03, 0x04, 0x00, 0x00, 0x0A])
        do {
            _ = try readAll(binary)
            Issue.record("read a binary file")
        } catch {
            #expect("\(error)".contains("binary data"))
        }
        #expect(throws: CSVReader.Failure.unreadable(file: "/nonexistent.csv", why: "no such file")) {
            try CSVReader(path: "/nonexistent.csv")
        }
    }

    @Test func emptyFileHasNoRecords() throws {
        #expect(try readAll(try write("")) == [])
    }
}
