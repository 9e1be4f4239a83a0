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
