import Foundation
import SeqbridgeCore
import SeqbridgeSQLite
import SeqbridgeStore

/// Import and export at a million rows, each beside the sqlite3 shell doing
/// the plain version of the same job on the same data.
enum CSVBenchmark {
    static func run(binary: String, rows: Int) async throws {
        print("CSV import and export: \(rows) rows")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("seqbridge-csv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let csv = folder.appendingPathComponent("influencers.csv").path
        let expected = try generate(rows: rows, to: csv)
        let size = (try FileManager.default.attributesOfItem(atPath: csv)[.size] as? Int) ?? 0
        print(
            String(
                format: "  file: %d rows, %.1f MB, %d bad and %d duplicate rows", rows, Double(size) / 1_048_576,
                expected.bad, expected.duplicates))

        let database = folder.appendingPathComponent("seqbridge.sqlite").path
        try await prepare(database: database)
        var environment = ProcessInfo.processInfo.environment
        environment["SEQBRIDGE_DATABASE"] = database

        let sqlite3 = "/usr/bin/sqlite3"
        let plain = folder.appendingPathComponent("plain.sqlite").path
        let plainImport = try Measured.run(
            sqlite3, [plain, ".import --csv \(csv) influencers"], environment: environment, in: folder.path)
        let ourImport = try Measured.run(
            binary, ["import", csv, "--sequence", "launch", "--now", "2026-11-02T09:00:00Z"], environment: environment,
            in: folder.path)
        guard ourImport.status == 0 else { throw BenchError("seqbridge import failed with status \(ourImport.status)") }
        let enrolled = try await SQLiteStore(path: database).statusCounts(sequence: nil).reduce(0) { $0 + $1.count }
        guard enrolled == rows - expected.bad - expected.duplicates else {
            throw BenchError("expected \(rows - expected.bad - expected.duplicates) enrollments, found \(enrolled)")
        }
        line(
            "import", ours: ourImport, baseline: plainImport, baselineName: "sqlite3 .import into a plain table",
            rows: rows, target: 2.0)
        try await floor(plain: plain, baseline: plainImport, enrolled: enrolled, in: folder)

        let ourOut = folder.appendingPathComponent("report.csv").path
        let ourExport = try Measured.run(
            binary, ["export", "--format", "csv", "--out", ourOut], environment: environment, in: folder.path)
        guard ourExport.status == 0 else { throw BenchError("seqbridge export failed with status \(ourExport.status)") }
        let shellOut = folder.appendingPathComponent("shell.csv").path
        let iso = { (column: String) in
            "CASE WHEN \(column) IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%SZ', \(column) / 1000, 'unixepoch') END"
        }
        let query = """
            SELECT i.email, i.name, s.name, e.status, e.reason, e.steps_sent,
              (SELECT COUNT(*) FROM step st WHERE st.sequence_id = e.sequence_id), \(iso("e.enrolled_at")),
              \(iso("e.last_sent_at")), \(iso("e.next_send_at")), \(iso("e.status_changed_at")), e.detail
            FROM enrollment e JOIN influencer i ON i.id = e.influencer_id JOIN sequence s ON s.id = e.sequence_id
            ORDER BY e.id;
            """
        let shellExport = try Measured.run(
            sqlite3, ["-csv", "-header", database, query], environment: environment, in: folder.path, stdout: shellOut)
        line(
            "export", ours: ourExport, baseline: shellExport, baselineName: "sqlite3 -csv of the same columns",
            rows: enrolled, target: 1.5)
        print("")
    }

    /// What the import's target leaves room for: the sqlite3 shell copying the
    /// plain table's rows into seqbridge's own tables (influencers, enrollments
    /// and their `enrolled` events, with every index), set-based, with no
    /// parsing, no checks and one transaction per table.
    static func floor(plain: String, baseline: Measured, enrolled: Int, in folder: URL) async throws {
        let database = folder.appendingPathComponent("floor.sqlite").path
        try await prepare(database: database)
        let sql = """
            ATTACH '\(plain)' AS plain;
            BEGIN;
            INSERT INTO influencer (email, name, first_name, handle, platform, followers, attributes,
                                    created_at, updated_at)
              SELECT lower(trim(email)), name, first_name, handle, platform, followers, json_object('niche', niche),
                     1793610000000, 1793610000000
              FROM plain.influencers WHERE email LIKE '%_@_%' ORDER BY rowid
              ON CONFLICT (email) DO NOTHING;
            COMMIT;
            BEGIN;
            INSERT INTO enrollment (influencer_id, sequence_id, token, status, enrolled_at, next_send_at, updated_at)
              SELECT id, (SELECT id FROM sequence WHERE name = 'launch'), printf('sbt_%09d%014d', 0, id), 'scheduled',
                     1793610000000, 1793613600000, 1793610000000
              FROM influencer ORDER BY id;
            COMMIT;
            BEGIN;
            INSERT INTO event (enrollment_id, key, type, occurred_at, recorded_at, source, detail)
              SELECT id, 'enrolled:' || token, 'enrolled', 1793610000000, 1793610000000, 'import',
                     'imported from line ' || influencer_id
              FROM enrollment ORDER BY id;
            COMMIT;
            """
        let measured = try Measured.run(
            "/usr/bin/sqlite3", [database, sql], environment: [:], in: folder.path)
        guard measured.status == 0 else { throw BenchError("the sqlite3 shell failed the import floor") }
        let copied = try await SQLiteStore(path: database).statusCounts(sequence: nil).reduce(0) { $0 + $1.count }
        guard copied == enrolled else {
            throw BenchError("the import floor wrote \(copied) enrollments, not \(enrolled)")
        }
        print(
            String(
                format:
                    "  import floor: the sqlite3 shell copying the plain table's rows into seqbridge's tables and indexes, set-based, without checks: %.2f s, %.2f× its .import",
                measured.seconds, measured.seconds / baseline.seconds))
    }

    static func line(
        _ name: String, ours: Measured, baseline: Measured, baselineName: String, rows: Int, target: Double
    ) {
        let ratio = ours.seconds / baseline.seconds
        print(
            String(
                format:
                    "  %@: seqbridge %.2f s (%.0f rows/s, peak %@) vs %@ %.2f s (peak %@): %.2f× (target ≤ %.1f×: %@; memory under 100 MB: %@)",
                name, ours.seconds, Double(rows) / ours.seconds, megabytes(ours.peakBytes), baselineName,
                baseline.seconds, megabytes(baseline.peakBytes), ratio, target, ratio <= target ? "met" : "NOT met",
                ours.peakBytes < 100 * 1_048_576 ? "yes" : "NO"))
    }

    /// A deterministic influencer list: every 997th row has a bad address,
    /// every 499th repeats an earlier address.
    static func generate(rows: Int, to path: String) throws -> (bad: Int, duplicates: Int) {
        guard
            let handle = FileHandle(forWritingAtPath: path)
                ?? {
                    _ = FileManager.default.createFile(atPath: path, contents: nil)
                    return FileHandle(forWritingAtPath: path)
                }()
        else { throw BenchError("cannot write \(path)") }
        defer { try? handle.close() }
        var buffer = "email,name,first_name,handle,platform,followers,niche\n"
        var bad = 0
        var duplicates = 0
        let platforms = ["instagram", "tiktok", "youtube", "twitch"]
        for index in 0..<rows {
            var email = "creator\(index)@example.com"
            if index % 997 == 996 {
                email = "creator\(index).example.com"
                bad += 1
            } else if index % 499 == 498 {
                email = "creator\(index / 2)@example.com"
                if (index / 2) % 997 == 996 || (index / 2) % 499 == 498 {
                    email = "creator\(index)@example.com"
                } else {
                    duplicates += 1
                }
            }
            buffer +=
                "\(email),Creator \(index),Creator,@creator\(index),\(platforms[index % 4]),\(index * 37 % 1_000_000),\"fitness, food\"\n"
            if buffer.utf8.count > 1 << 20 {
                try handle.write(contentsOf: Data(buffer.utf8))
                buffer = ""
            }
        }
        try handle.write(contentsOf: Data(buffer.utf8))
        return (bad, duplicates)
    }

    static func prepare(database: String) async throws {
        _ = try await prepareSequence(
            database: database,
            steps: [StepDefinition(wait: WaitDuration(seconds: 3600), subject: "Hi {{first_name}}", body: "Hello")])
    }
}

/// A database with the mailbox `outreach` and the sequence `launch` of these steps.
func prepareSequence(database: String, steps: [StepDefinition]) async throws -> SQLiteStore {
    let store = try SQLiteStore(path: database)
    let now = Timestamp(iso8601: "2026-11-01T00:00:00Z")!
    try await store.addMailbox(
        MailboxDefinition(
            name: "outreach", fromName: "Maya", fromAddress: try EmailAddress("maya@brightside.example"),
            transport: "file://outbox"), now: now)
    _ = try await store.applySequence(SequenceDefinition(name: "launch", mailbox: "outreach", steps: steps), now: now)
    return store
}
