import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The seed's stories, told through the built binary as an operator would.
@Suite("seqbridge end to end")
struct EndToEndTests {
    @Test func waitsInScheduledThenInProgressThenCompleted() throws {
        let cli = try CLI()
        try cli.setUpSamples()
        try cli.run(
            "enroll", "ana.lima@example.com", "--sequence", "summer-launch", "--name", "Ana Lima", "--now",
            "2026-11-02T09:00:00Z")
        try cli.run("tick", "--now", "2026-11-02T09:59:59Z")
        #expect(try cli.row("ana.lima@example.com", sequence: "summer-launch")?["status"] as? String == "scheduled")
        #expect(try cli.outbox().isEmpty)

        try cli.run("tick", "--now", "2026-11-02T10:00:00Z")
        var row = try #require(try cli.row("ana.lima@example.com", sequence: "summer-launch"))
        #expect(row["status"] as? String == "in_progress")
        #expect(row["steps_sent"] as? Int == 1)
        #expect(row["next_send_at"] as? String == "2026-11-05T10:00:00Z")
        #expect(try cli.outbox().count == 1)

        try cli.run("tick", "--now", "2026-11-05T10:00:00Z")
        try cli.run("tick", "--now", "2026-11-09T10:00:00Z")
        row = try #require(try cli.row("ana.lima@example.com", sequence: "summer-launch"))
        #expect(row["status"] as? String == "finished")
        #expect(row["reason"] as? String == "completed")
        #expect(row["finished_at"] as? String == "2026-11-09T10:00:00Z")
        #expect(try cli.outbox().count == 3)
    }

    @Test func oneStepSequenceGoesStraightToFinished() throws {
        let cli = try CLI()
        try cli.setUpSamples()
        try cli.run(
            "enroll", "ben@example.org", "--sequence", "quick-hello", "--name", "Ben Okafor", "--now",
            "2026-11-02T09:00:00Z")
        try cli.run("tick", "--now", "2026-11-02T09:00:00Z")
        let row = try #require(try cli.row("ben@example.org", sequence: "quick-hello"))
        #expect(row["status"] as? String == "finished")
        #expect(row["reason"] as? String == "completed")
        let show = try cli.run("show", "ben@example.org", "--json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        let enrollment = try #require((json["enrollments"] as? [[String: Any]])?.first)
        let statuses = (enrollment["events"] as? [[String: Any]])?.compactMap { $0["changed_status_to"] as? String }
        #expect(statuses == ["finished"], "a one-step sequence never shows in_progress")
    }

    @Test func unenrollFinishes() throws {
        let cli = try CLI()
        try cli.setUpSamples()
        try cli.run("enroll", "ana@example.com", "--sequence", "summer-launch", "--now", "2026-11-02T09:00:00Z")
        let result = try cli.run(
            "unenroll", "ana@example.com", "--sequence", "summer-launch", "--now", "2026-11-02T09:10:00Z")
        #expect(result.stdout.contains("Finished"))
        let row = try #require(try cli.row("ana@example.com", sequence: "summer-launch"))
        #expect(row["status"] as? String == "finished")
        #expect(row["reason"] as? String == "unenrolled")
        try cli.run("tick", "--now", "2026-11-03T09:00:00Z")
        #expect(try cli.outbox().isEmpty)
        // Nothing left to stop.
        let again = try cli.run("unenroll", "ana@example.com", "--sequence", "summer-launch", expect: 1)
        #expect(again.stderr.contains("no running or errored enrollment"))
    }

    @Test func disconnectingAMailboxPutsEveryoneInFlightInError() throws {
        let cli = try CLI()
        try cli.setUpSamples()
        for email in ["a@example.com", "b@example.com", "c@example.com"] {
            try cli.run(
                "enroll", email, "--sequence", "summer-launch", "--name", "A B", "--now", "2026-11-02T09:00:00Z")
        }
        try cli.run(
            "enroll", "done@example.com", "--sequence", "quick-hello", "--name", "D", "--now", "2026-11-02T09:00:00Z")
        try cli.run("tick", "--now", "2026-11-02T09:30:00Z")  // quick-hello finishes; the others wait
        try cli.run("unenroll", "c@example.com", "--sequence", "summer-launch", "--now", "2026-11-02T09:40:00Z")
        try cli.run("tick", "--now", "2026-11-02T10:00:00Z")  // a and b are in progress

        let result = try cli.run(
            "mailbox", "disconnect", "outreach", "--reason", "password changed", "--now", "2026-11-02T11:00:00Z")
        #expect(result.stdout.contains("2 enrollment(s) moved to Error"))
        let rows = try cli.exportRows()
        let byEmail = Dictionary(uniqueKeysWithValues: rows.map { ($0["email"] as! String, $0) })
        for email in ["a@example.com", "b@example.com"] {
            #expect(byEmail[email]?["status"] as? String == "error")
            #expect(byEmail[email]?["reason"] as? String == "mailbox_disconnected")
            #expect((byEmail[email]?["detail"] as? String)?.contains("password changed") == true)
        }
        #expect(byEmail["c@example.com"]?["reason"] as? String == "unenrolled")
        #expect(byEmail["done@example.com"]?["reason"] as? String == "completed")
        // Nothing is sent from a disconnected mailbox, and nothing revives on reconnect.
        let before = try cli.outbox().count
        try cli.run("tick", "--now", "2026-11-09T10:00:00Z")
        try cli.run("mailbox", "reconnect", "outreach")
        try cli.run("tick", "--now", "2026-11-09T10:00:00Z")
        #expect(try cli.outbox().count == before)
        #expect(try cli.row("a@example.com", sequence: "summer-launch")?["status"] as? String == "error")
        let list = try cli.run("mailbox", "list")
        #expect(list.stdout.contains("connected"))
    }

    @Test func enrolRefusedWhileAnErrorEnrollmentExistsThenReenroll() throws {
        let cli = try CLI()
        try cli.setUpSamples()
        try cli.run(
            "enroll", "a@example.com", "--sequence", "summer-launch", "--name", "Al", "--now", "2026-11-02T09:00:00Z")
        try cli.run(
            "enroll", "b@example.com", "--sequence", "summer-launch", "--name", "Bo", "--now", "2026-11-02T09:00:00Z")
        try cli.run("mailbox", "disconnect", "outreach", "--now", "2026-11-02T09:30:00Z")
        let refusedWhileDisconnected = try cli.run(
            "reenroll", "a@example.com", "--sequence", "summer-launch", expect: 1)
        #expect(refusedWhileDisconnected.stderr.contains("disconnected"))
        try cli.run("mailbox", "reconnect", "outreach")

        let refused = try cli.run("enroll", "a@example.com", "--sequence", "summer-launch", expect: 1)
        #expect(refused.stderr.contains("has an enrollment in Error"))
        #expect(refused.stderr.split(separator: "\n").count == 1)

        try cli.run("reenroll", "a@example.com", "--sequence", "summer-launch", "--now", "2026-11-02T10:00:00Z")
        let bulk = try cli.run(
            "reenroll", "--sequence", "summer-launch", "--status", "error", "--now", "2026-11-02T10:00:00Z")
        #expect(bulk.stdout.contains("Re-enrolled 1 enrollment(s)"))
        let rows = try cli.exportRows("--sequence", "summer-launch")
        #expect(rows.filter { $0["status"] as? String == "scheduled" }.count == 2)
        #expect(rows.filter { $0["reason"] as? String == "unenrolled" }.count == 2)

        try cli.run("tick", "--now", "2026-11-02T11:00:00Z")
        #expect(try cli.outbox().count == 2)
    }

    @Test func setEmailChangesNoStatusAndSendsNothing() throws {
        let cli = try CLI()
        try cli.setUpSamples()
        try cli.run(
            "enroll", "old@example.com", "--sequence", "summer-launch", "--name", "Ola", "--now", "2026-11-02T09:00:00Z"
        )
        try cli.run("tick", "--now", "2026-11-02T10:00:00Z")
        let before = try #require(try cli.row("old@example.com", sequence: "summer-launch"))
        let sentBefore = try cli.outbox().count

        try cli.run("influencer", "set-email", "old@example.com", "new@example.com", "--now", "2026-11-02T12:00:00Z")
        try cli.run("tick", "--now", "2026-11-02T12:00:00Z")
        #expect(try cli.outbox().count == sentBefore)
        let after = try #require(try cli.row("new@example.com", sequence: "summer-launch"))
        for column in ["status", "reason", "steps_sent", "next_send_at", "last_sent_at", "enrolled_at"] {
            #expect("\(after[column] ?? "nil")" == "\(before[column] ?? "nil")", "column \(column)")
        }
        // The next step goes to the new address, when it is due.
        try cli.run("tick", "--now", "2026-11-05T10:00:00Z")
        #expect(try cli.outbox().count == sentBefore + 1)
        let newest = try cli.outbox().map {
            try String(contentsOf: cli.folder.appendingPathComponent("outbox/\($0)"), encoding: .utf8)
        }
        #expect(newest.contains { $0.contains("To: Ola <new@example.com>") })
    }

    @Test func refusalsAreOneClearSentence() throws {
        let cli = try CLI()
        try cli.setUpSamples()
        let unknown = try cli.run("enroll", "a@example.com", "--sequence", "nope", expect: 1)
        #expect(
            unknown.stderr
                == "seqbridge: There is no sequence named 'nope'; `seqbridge sequence list` shows the ones there are.\n"
        )

        let bad = cli.folder.appendingPathComponent("bad.yaml")
        try "name: broken\nmailbox: outreach\nsteps:\n  - wait: soon\n    subject: s\n    body: b\n".write(
            to: bad, atomically: true, encoding: .utf8)
        let badYAML = try cli.run("sequence", "apply", bad.path, expect: 1)
        #expect(badYAML.stderr.contains("bad.yaml, line 4: step 1 wait 'soon' is not a duration"))

        try cli.run("suppression", "add", "blocked@example.com")
        let suppressed = try cli.run("enroll", "blocked@example.com", "--sequence", "quick-hello", expect: 1)
        #expect(suppressed.stderr.contains("suppression list"))
        try cli.run("enroll", "blocked@example.com", "--sequence", "quick-hello", "--force")

        let badAddress = try cli.run("enroll", "not-an-address", "--sequence", "quick-hello", expect: 1)
        #expect(badAddress.stderr.contains("it has no @"))

        let usage = try cli.run("enroll", "a@example.com", expect: 2)
        #expect(usage.stderr.contains("--sequence"))

        let badTime = try cli.run("tick", "--now", "tomorrow", expect: 1)
        #expect(badTime.stderr.contains("--now 'tomorrow' is not an ISO 8601 time"))

        let badTransport = try cli.run(
            "mailbox", "add", "x", "--from", "x@y.example", "--transport", "ftp://x", expect: 1)
        #expect(badTransport.stderr.contains("not supported"))
    }

    @Test func statusAndExportFormats() throws {
        let cli = try CLI()
        try cli.setUpSamples()
        try cli.run(
            "enroll", "a@example.com", "--sequence", "quick-hello", "--name", "=cmd|' /C calc'!A0", "--now",
            "2026-11-02T09:00:00Z")
        try cli.run("enroll", "b@example.com", "--sequence", "summer-launch", "--now", "2026-11-02T09:00:00Z")
        try cli.run("tick", "--now", "2026-11-02T09:00:00Z")
        let status = try cli.run("status", "--json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let counts = try #require(json["counts"] as? [[String: Any]])
        #expect(counts.count == 2)
        #expect(
            counts.contains { $0["sequence"] as? String == "quick-hello" && $0["reason"] as? String == "completed" })
        let text = try cli.run("status", "--sequence", "summer-launch")
        #expect(text.stdout.contains("Scheduled"))

        let out = cli.folder.appendingPathComponent("report.csv").path
        try cli.run("export", "--format", "csv", "--out", out)
        let csv = try String(contentsOfFile: out, encoding: .utf8)
        let lines = csv.split(separator: "\r\n")
        #expect(
            lines[0]
                == "email,name,sequence,status,reason,steps_sent,steps_total,enrolled_at,last_sent_at,next_send_at,finished_at,detail"
        )
        #expect(lines.count == 3)
        #expect(csv.contains(",'=cmd|' /C calc'!A0,"))
        let filtered = try cli.exportRows("--status", "scheduled")
        #expect(filtered.map { $0["email"] as? String } == ["b@example.com"])
    }

    @Test func serveAnswersHealthzOnLoopback() async throws {
        let cli = try CLI()
        let process = cli.process(["serve", "--port", "0", "--tick-interval", "0"])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        var seen = ""
        while !seen.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        let url = try #require(
            seen.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        #expect(url.hasPrefix("http://127.0.0.1:"))
        let (data, response) = try await URLSession.shared.data(from: URL(string: url + "/healthz")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: data, as: UTF8.self).contains("\"ok\""))
    }
}
