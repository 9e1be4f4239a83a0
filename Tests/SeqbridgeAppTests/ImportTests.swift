import Foundation
import SeqbridgeCore
import SeqbridgeStore
import Testing

@testable import SeqbridgeApp

extension Harness {
    func file(_ name: String, _ text: String) throws -> String {
        let path = folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func importFile(
        _ path: String, dryRun: Bool = false, updateExisting: Bool = false, mappings: [String] = [],
        errors: String? = nil, batchSize: Int = 5_000
    ) async throws -> ImportSummary {
        var importer = Importer(engine: engine)
        importer.batchSize = batchSize
        return try await importer.run(
            Importer.Request(
                file: path, options: ImportOptions(sequence: "launch", updateExisting: updateExisting, dryRun: dryRun),
                mappings: mappings, errorsFile: errors), now: at("2026-11-02T09:00:00Z"))
    }

    func rows() async throws -> [ExportRow] {
        let box = Rows()
        try await engine.store.exportRows(ExportFilter()) { box.append($0) }
        return box.rows
    }
}

final class Rows: @unchecked Sendable {
    var rows: [ExportRow] = []
    func append(_ row: ExportRow) { rows.append(row) }
}

let oneStep = """
    name: launch
    mailbox: outreach
    steps:
      - wait: 1h
        subject: "Hi {{first_name}}"
        body: "Hello"
    """

@Suite("CSV import")
struct ImportTests {
    let messy =
        "\u{FEFF}E-mail;Full Name;First Name;Followers;Favourite Product\r\n"
        + "ana@example.com;Ana Lima;Ana;48200;Sun cream\r\n"
        + ";Nobody;No;1;\r\n"
        + "BEN@Example.org ;Ben Okafor;Ben;1,200;\r\n"
        + "not-an-email;Bad;Bad;5;\r\n"
        + "ana@example.com;Ana Again;Ana;1;\r\n"
        + "dee@example.com;Dee;Dee;lots;\r\n"
        + "eve@example.com;Eve\r\n"
        + "\r\n"
        + "fay@example.com;\"Fay; Baker\";Fay;9;\"Bread\r\nand cakes\";\r\n"
        + "gil@example.com;Gil;Gil;3;x;extra\r\n"

    @Test func goodRowsGoInAndBadRowsAreReportedByLine() async throws {
        let harness = try Harness()
        try await harness.seed(oneStep)
        let path = try harness.file("messy.csv", messy)
        let errors = harness.folder.appendingPathComponent("errors.csv").path
        let summary = try await harness.importFile(path, errors: errors)
        #expect(summary.read == 9)
        #expect(summary.enrolled == 3)
        #expect(summary.created == 3)
        #expect(summary.rejected == 6)
        #expect(summary.skipped == 0)
        let report = try String(contentsOfFile: errors, encoding: .utf8)
        #expect(
            report == "line,email,reason\r\n"
                + "3,,it has no email address\r\n"
                + "5,not-an-email,the address is not usable: it has no @\r\n"
                + "6,ana@example.com,duplicate of line 2\r\n"
                + "7,dee@example.com,followers 'lots' is not a whole number\r\n"
                + "8,eve@example.com,\"it has 2 field(s), the header has 5\"\r\n"
                + "12,gil@example.com,\"it has 6 field(s), the header has 5\"\r\n")
        let rows = try await harness.rows()
        #expect(rows.map(\.email) == ["ana@example.com", "ben@example.org", "fay@example.com"])
        #expect(rows.allSatisfy { $0.status == .scheduled && $0.nextSendAt == at("2026-11-02T10:00:00Z") })
        let fay = try #require(try await harness.engine.store.history(email: "fay@example.com"))
        #expect(fay.influencer.name == "Fay; Baker")
        #expect(fay.influencer.attributes["favourite_product"] == "Bread\r\nand cakes")
        #expect(try await harness.engine.store.history(email: "ben@example.org")?.influencer.followers == 1200)
    }

    @Test func reimportChangesNothingAndSaysSo() async throws {
        let harness = try Harness()
        try await harness.seed(oneStep)
        let path = try harness.file("list.csv", "email,name\na@example.com,A\nb@example.com,B\n")
        _ = try await harness.importFile(path)
        let before = try await harness.rows()
        let again = try await harness.importFile(path)
        #expect(again.enrolled == 0)
        #expect(again.skipped == 2)
        #expect(again.created == 0)
        #expect(again.text.contains("Nothing changed"))
        #expect(try await harness.rows() == before)
    }

    @Test func dryRunReportsTheSameAndWritesNothing() async throws {
        let harness = try Harness()
        try await harness.seed(oneStep)
        let path = try harness.file("messy.csv", messy)
        let dry = try await harness.importFile(path, dryRun: true, batchSize: 2)
        #expect(try await harness.rows().isEmpty)
        #expect(try await harness.engine.store.history(email: "ana@example.com") == nil)
        let real = try await harness.importFile(path, batchSize: 2)
        #expect(dry.read == real.read)
        #expect(dry.enrolled == real.enrolled)
        #expect(dry.rejected == real.rejected)
        #expect(dry.created == real.created)
        #expect(dry.dry_run && !real.dry_run)
    }

    @Test func duplicatesAcrossBatchesNameTheFirstLine() async throws {
        let harness = try Harness()
        try await harness.seed(oneStep)
        let path = try harness.file("dups.csv", "email\na@example.com\nb@example.com\nc@example.com\nA@example.com\n")
        let errors = harness.folder.appendingPathComponent("e.csv").path
        let summary = try await harness.importFile(path, errors: errors, batchSize: 1)
        #expect(summary.enrolled == 3)
        #expect(try String(contentsOfFile: errors, encoding: .utf8).contains("5,a@example.com,duplicate of line 2"))
    }

    /// 600 rows over 300 addresses (fixed seed), so repeats fall within one
    /// multi-row statement, across statements and across batches; some
    /// addresses already enrolled, one suppressed. Every row's outcome is the
    /// one a row-by-row walk of the file gives, and a dry run says the same.
    @Test func repeatsAnywhereInTheFileAreDecidedInFileOrder() async throws {
        let harness = try Harness()
        try await harness.seed(oneStep)
        try await harness.engine.store.suppress(
            email: "c7@example.com", reason: .unsubscribed, detail: nil, now: at("2026-11-01T00:00:00Z"))
        for enrolled in [3, 150, 299] {
            try await harness.engine.enroll(
                email: "c\(enrolled)@example.com", sequence: "launch", name: nil, force: false,
                now: at("2026-11-01T00:00:00Z"))
        }
        var state: UInt64 = 7
        var text = "email\n"
        var expected: [String] = []
        var first: [String: Int] = [:]
        var enrolled = 0
        for line in 2...601 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let email = "c\((state >> 33) % 300)@example.com"
            text += email + "\n"
            if let earlier = first[email] {
                expected.append("\(line),\(email),duplicate of line \(earlier)")
                continue
            }
            first[email] = line
            switch email {
            case "c7@example.com": expected.append("\(line),\(email),on the suppression list (unsubscribed)")
            case "c3@example.com", "c150@example.com", "c299@example.com":
                expected.append("\(line),\(email),skipped: already enrolled (Scheduled)")
            default: enrolled += 1
            }
        }
        let path = try harness.file("many.csv", text)
        let dryRun = try await harness.importFile(path, dryRun: true, batchSize: 250)
        let errors = harness.folder.appendingPathComponent("e.csv").path
        let summary = try await harness.importFile(path, errors: errors, batchSize: 250)
        #expect(summary.enrolled == enrolled)
        #expect(summary.read == 600)
        #expect(summary.enrolled + summary.skipped + summary.rejected == 600)
        #expect(dryRun.enrolled == summary.enrolled && dryRun.rejected == summary.rejected)
        let lines = try String(contentsOfFile: errors, encoding: .utf8).split(separator: "\r\n").dropFirst()
        #expect(lines.map(String.init) == expected)
        #expect(try await harness.rows().count == enrolled + 3)
    }

    @Test func suppressedAndAlreadyEnrolledRows() async throws {
        let harness = try Harness()
        try await harness.seed(oneStep)
        try await harness.engine.store.suppress(
            email: "no@example.com", reason: .spamComplaint, detail: nil, now: at("2026-11-01T00:00:00Z"))
        try await harness.engine.enroll(
            email: "in@example.com", sequence: "launch", name: "In", force: false, now: at("2026-11-01T00:00:00Z"))
        let path = try harness.file(
            "l.csv",
            "email,name\nno@example.com,No\nin@example.com,Other Name\nnew@example.com,New\n"
                + "NO@example.com,Again\nin@example.com,Again\nnew@example.com,Again\n")
        let errors = harness.folder.appendingPathComponent("e.csv").path
        let summary = try await harness.importFile(path, errors: errors)
        #expect(summary.enrolled == 1)
        #expect(summary.skipped == 1)
        #expect(summary.rejected == 4)
        let report = try String(contentsOfFile: errors, encoding: .utf8)
        #expect(report.contains("2,no@example.com,on the suppression list (spam_complaint)"))
        #expect(report.contains("3,in@example.com,skipped: already enrolled (Scheduled)"))
        // A repeated address is a duplicate, whatever became of its first row.
        #expect(report.contains("5,no@example.com,duplicate of line 2"))
        #expect(report.contains("6,in@example.com,duplicate of line 3"))
        #expect(report.contains("7,new@example.com,duplicate of line 4"))
        // Without --update-existing the existing influencer keeps its fields.
        #expect(try await harness.engine.store.history(email: "in@example.com")?.influencer.name == "In")
        let updated = try await harness.importFile(path, updateExisting: true)
        #expect(updated.updated == 1)
        #expect(try await harness.engine.store.history(email: "in@example.com")?.influencer.name == "Other Name")
    }

    @Test func headerAliasesAndMappings() async throws {
        let harness = try Harness()
        try await harness.seed(oneStep)
        let tabbed = try harness.file("t.tsv", "Email Address\tIG\tTier\nx@example.com\t@x\tgold\n")
        let summary = try await harness.importFile(tabbed, mappings: ["IG=handle", "Tier=level"])
        #expect(summary.enrolled == 1)
        let history = try #require(try await harness.engine.store.history(email: "x@example.com"))
        #expect(history.influencer.handle == "@x")
        #expect(history.influencer.attributes == ["level": "gold"])

        let noEmail = try harness.file("n.csv", "name,handle\nA,@a\n")
        await #expect(throws: AppError.self) { _ = try await harness.importFile(noEmail) }
        let mapped = try await harness.importFile(noEmail, mappings: ["handle=email"])
        #expect(mapped.rejected == 1)
        await #expect(throws: AppError.self) { _ = try await harness.importFile(noEmail, mappings: ["nope=email"]) }
    }

    @Test func importedEnrollmentEqualsAnEnrolledOne() async throws {
        // The import writes the cached status directly; it must be what the fold gives.
        let harness = try Harness()
        try await harness.seed(oneStep)
        try await harness.engine.enroll(
            email: "one@example.com", sequence: "launch", name: "One", force: false, now: at("2026-11-02T09:00:00Z"))
        _ = try await harness.importFile(try harness.file("l.csv", "email,name\ntwo@example.com,Two\n"))
        let rows = try await harness.rows()
        #expect(rows.count == 2)
        var first = rows[0]
        first.email = rows[1].email
        first.name = rows[1].name
        #expect(first == rows[1])
        #expect(try await harness.engine.tick(now: at("2026-11-02T10:00:00Z")).sent == 2)
    }

    @Test func unusableFilesAreRefusedWhole() async throws {
        let harness = try Harness()
        try await harness.seed(oneStep)
        await #expect(
            throws: AppError.unusableImport(
                file: "/nonexistent.csv", why: "Cannot read /nonexistent.csv: no such file.")
        ) {
            _ = try await harness.importFile("/nonexistent.csv")
        }
        let utf16 = harness.folder.appendingPathComponent("u.csv").path
        _ = FileManager.default.createFile(atPath: utf16, contents: Data([0xFF, 0xFE, 0x65, 0x00]))
        do {
            _ = try await harness.importFile(utf16)
            Issue.record("imported UTF-16")
        } catch {
            #expect("\(error)".contains("UTF-16"))
        }
    }
}

@Suite("Reports")
struct NightlyTests {
    @Test func namingAndNextRun() {
        #expect(Nightly.fileName(now: at("2026-11-03T00:05:00Z")) == "seqbridge-report-2026-11-02.csv")
        #expect(Nightly.fileName(now: at("2027-01-01T23:59:00Z")) == "seqbridge-report-2026-12-31.csv")
        #expect(Nightly.nextRun(after: at("2026-11-02T00:04:59Z"), hour: 0, minute: 5) == at("2026-11-02T00:05:00Z"))
        #expect(Nightly.nextRun(after: at("2026-11-02T00:05:00Z"), hour: 0, minute: 5) == at("2026-11-03T00:05:00Z"))
        #expect(Nightly.time("23:59")! == (23, 59))
        #expect(Nightly.time("24:00") == nil)
    }

    @Test func nightlyWritesAndKeepsTheRetention() async throws {
        let harness = try Harness()
        try await harness.seed(oneStep)
        let folder = harness.folder.appendingPathComponent("reports").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for day in ["2026-10-20", "2026-10-30", "2026-10-31", "2026-11-01"] {
            _ = FileManager.default.createFile(atPath: "\(folder)/seqbridge-report-\(day).csv", contents: Data())
        }
        _ = FileManager.default.createFile(atPath: "\(folder)/notes.txt", contents: Data())
        let result = try await harness.engine.nightlyExport(
            directory: folder, keepDays: 3, now: at("2026-11-03T00:05:00Z"))
        #expect(result.path.hasSuffix("seqbridge-report-2026-11-02.csv"))
        #expect(result.removed == ["seqbridge-report-2026-10-20.csv", "seqbridge-report-2026-10-30.csv"])
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == [
                "notes.txt", "seqbridge-report-2026-10-31.csv", "seqbridge-report-2026-11-01.csv",
                "seqbridge-report-2026-11-02.csv",
            ])
    }

    @Test func sinceFiltersOnLastChange() async throws {
        let harness = try Harness()
        try await harness.seed(oneStep)
        try await harness.engine.enroll(
            email: "a@example.com", sequence: "launch", name: "A", force: false, now: at("2026-11-02T08:00:00Z"))
        try await harness.engine.enroll(
            email: "b@example.com", sequence: "launch", name: "B", force: false, now: at("2026-11-02T09:30:00Z"))
        let box = Rows()
        try await harness.engine.store.exportRows(ExportFilter(since: at("2026-11-02T09:00:00Z"))) { box.append($0) }
        #expect(box.rows.map(\.email) == ["b@example.com"])
    }

    @Test func jsonLinesRoundTrip() throws {
        let row = ExportRow(
            email: "a@example.com", name: "Ä \"quoted\"\n\u{1}", sequence: "s", status: .finished, reason: .replied,
            stepsSent: 2, stepsTotal: 3, enrolledAt: at("2026-11-02T09:00:00Z"), lastSentAt: nil, nextSendAt: nil,
            finishedAt: at("2026-11-03T09:00:00.250Z"), detail: nil)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(Report.jsonLine(row).utf8)) as? [String: Any])
        #expect(object["name"] as? String == row.name)
        #expect(object["finished_at"] as? String == "2026-11-03T09:00:00.250Z")
        #expect(Timestamp(iso8601: object["finished_at"] as! String) == row.finishedAt)
        #expect(object["reason"] as? String == "replied")
    }
}
