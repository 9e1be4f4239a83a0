import Foundation
import SeqbridgeCore
import SeqbridgeSQLite
import SeqbridgeStore
import Testing

@Suite("Crash safety")
struct CrashTests {
    /// kill -9 between the transport's answer and its recording, then start
    /// again: no step is ever sent twice, and what is in doubt is reported.
    @Test func killedTickNeverSendsAStepTwice() async throws {
        let cli = try CLI()
        try cli.setUpSamples()
        let store = try SQLiteStore(path: cli.database)
        let now = Timestamp(iso8601: "2026-11-02T09:00:00Z")!
        for index in 0..<500 {
            try await store.enroll(
                InfluencerFields(email: "i\(index)@example.com", name: "I \(index)"), sequence: "quick-hello",
                token: "tok\(index)", force: false, now: now)
        }

        let crashing = cli.process(["tick", "--now", "2026-11-02T09:00:00Z"])
        var environment = crashing.environment ?? [:]
        environment["SEQBRIDGE_FAULT_KILL_AFTER_SENDS"] = "250"
        crashing.environment = environment
        crashing.standardOutput = FileHandle.nullDevice
        crashing.standardError = FileHandle.nullDevice
        try crashing.run()
        crashing.waitUntilExit()
        #expect(crashing.terminationReason == .uncaughtSignal)
        #expect(crashing.terminationStatus == SIGKILL)
        #expect(try cli.outbox().count == 250)

        // Restart: the rest goes out, nothing claimed before the crash goes out again.
        try cli.run("tick", "--now", "2026-11-02T09:00:00Z")
        try cli.run("tick", "--now", "2026-11-02T10:00:00Z")
        let files = try cli.outbox()
        var tokens: [String: Int] = [:]
        for file in files {
            let text = try String(contentsOf: cli.folder.appendingPathComponent("outbox/\(file)"), encoding: .utf8)
            let token = try #require(text.split(separator: "\r\n").first { $0.hasPrefix("X-Seqbridge-Token: ") })
            tokens[String(token), default: 0] += 1
        }
        #expect(tokens.values.allSatisfy { $0 == 1 }, "a step was sent twice")

        let unconfirmed = try await store.unconfirmedCount()
        let rows = try cli.exportRows()
        let completed = rows.filter { $0["reason"] as? String == "completed" }.count
        // Every enrollment is either confirmed sent or reported as unconfirmed, never lost.
        #expect(completed + unconfirmed == 500)
        #expect(unconfirmed > 0)
        #expect(files.count >= completed)
        #expect(files.count <= completed + unconfirmed)
        let status = try cli.run("status")
        #expect(status.stdout.contains("\(unconfirmed) step(s) were claimed but never confirmed"))

        let doubtful = try #require(rows.first { $0["status"] as? String == "scheduled" }?["email"] as? String)
        let show = try cli.run("show", doubtful)
        #expect(show.stdout.contains("will not be resent"))
    }
}

@Suite("Import through the binary")
struct ImportEndToEndTests {
    func list(_ cli: CLI, rows: Int) throws -> String {
        var text = "email,name,followers\n"
        for index in 0..<rows { text += "person\(index)@example.com,Person \(index),\(index)\n" }
        let path = cli.folder.appendingPathComponent("list.csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func interruptedImportLeavesWholeBatchesAndARerunFinishes() throws {
        let cli = try CLI()
        try cli.setUpSamples()
        let path = try list(cli, rows: 5_000)
        let crashing = cli.process(["import", path, "--sequence", "summer-launch", "--batch-size", "1000"])
        var environment = crashing.environment ?? [:]
        environment["SEQBRIDGE_FAULT_KILL_AT_IMPORT_ROW"] = "2500"
        crashing.environment = environment
        crashing.standardError = FileHandle.nullDevice
        try crashing.run()
        crashing.waitUntilExit()
        #expect(crashing.terminationReason == .uncaughtSignal)
        // Reading runs up to two batches ahead of the database: one or two whole batches made it.
        let committed = try cli.exportRows().count
        #expect(committed == 1_000 || committed == 2_000, "\(committed) rows: not whole batches")

        let rerun = try cli.run("import", path, "--sequence", "summer-launch", "--batch-size", "1000", "--json")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(rerun.stdout.utf8)) as? [String: Any])
        #expect(summary["enrolled"] as? Int == 5_000 - committed)
        #expect(summary["skipped"] as? Int == committed)
        let rows = try cli.exportRows()
        #expect(rows.count == 5_000)
        #expect(Set(rows.compactMap { $0["email"] as? String }).count == 5_000)
    }

    @Test func samplesImportAsTheReadmeSays() throws {
        let cli = try CLI()
        try cli.setUpSamples()
        let messy = CLI.samples.appendingPathComponent("influencers-messy.csv").path
        let dry = try cli.run("import", messy, "--sequence", "summer-launch", "--dry-run")
        #expect(dry.stderr.contains("9 row(s) read; 4 enrolled in 'summer-launch'; 0 skipped; 5 rejected."))
        #expect(dry.stderr.contains("Dry run: nothing was written."))
        #expect(try cli.exportRows().isEmpty)
        let errors = cli.folder.appendingPathComponent("errors.csv").path
        try cli.run("import", messy, "--sequence", "summer-launch", "--errors", errors)
        #expect(
            try String(contentsOfFile: errors, encoding: .utf8).contains("7,ana.lima@example.com,duplicate of line 2"))
        let again = try cli.run("import", messy, "--sequence", "summer-launch")
        #expect(again.stderr.contains("Nothing changed"))
        let unusable = try cli.run(
            "import", CLI.samples.appendingPathComponent("summer-launch.yaml").path, "--sequence", "summer-launch",
            expect: 1)
        #expect(unusable.stderr.contains("has no email column"))
        try cli.run("tick", "--now", "2099-01-01T00:00:00Z")
        #expect(try cli.outbox().count == 4)
    }
}
