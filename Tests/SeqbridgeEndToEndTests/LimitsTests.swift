import Foundation
import Testing

/// Sending limits on the `file://` transport, driven through the binary with `--now`.
@Suite("Sending limits")
struct LimitsTests {
    func setUp(_ cli: CLI, _ limits: [String], wait: String = "0s") throws {
        try cli.run(
            ["mailbox", "add", "outreach", "--from", "maya@brightside.example", "--transport", "file://outbox"] + limits
        ).expectSuccess()
        let sequence = cli.folder.appendingPathComponent("s.yaml")
        try """
        name: s
        mailbox: outreach
        steps:
          - wait: \(wait)
            subject: "Hello"
            body: "Hi"
          - wait: 1d
            subject: "Again"
            body: "Hi again"
        """.write(to: sequence, atomically: true, encoding: .utf8)
        try cli.run("sequence", "apply", sequence.path)
    }

    /// 17:00 on a Friday in New York is past the window; the next opening is Monday
    /// 09:00, which after the end of daylight saving on Sunday is 14:00 UTC, not 13:00.
    @Test func theWindowIsLocalTimeAcrossADaylightSavingChange() throws {
        let cli = try CLI()
        try setUp(cli, ["--window", "mon-fri 09:00-17:00", "--time-zone", "America/New_York"], wait: "1h")
        try cli.run("enroll", "ana@example.com", "--sequence", "s", "--now", "2026-10-30T20:00:00Z")
        let tick = try cli.run("tick", "--now", "2026-10-30T21:30:00Z")
        #expect(tick.stdout.contains("Sent 0 step(s)"))
        #expect(tick.stdout.contains("1 held back by sending limits"))
        let show = try cli.run("show", "ana@example.com").stdout
        #expect(show.contains("due at 2026-11-02T14:00:00Z (waiting: outside the sending window mon-fri 09:00-17:00"))
        #expect(try cli.run("tick", "--now", "2026-11-02T13:59:00Z").stdout.contains("Sent 0 step(s)"))
        #expect(try cli.run("tick", "--now", "2026-11-02T14:00:00Z").stdout.contains("Sent 1 step(s)"))
        #expect(try cli.outbox().count == 1)
    }

    @Test func theDailyCapHoldsTheRestUntilTheNextLocalDay() throws {
        let cli = try CLI()
        try setUp(cli, ["--daily-cap", "2", "--time-zone", "Europe/Paris"])
        #expect(try cli.run("mailbox", "list").stdout.contains("[limits: 2/day Europe/Paris]"))
        for index in 0..<5 {
            try cli.run("enroll", "p\(index)@example.com", "--sequence", "s", "--now", "2026-11-02T09:00:00Z")
        }
        var tick = try cli.run("tick", "--now", "2026-11-02T10:00:00Z")
        #expect(tick.stdout.contains("Sent 2 step(s)"))
        #expect(tick.stdout.contains("3 held back"))
        // Paris is UTC+1 in November: its next day starts at 23:00 UTC.
        let waiting = try cli.exportRows().filter { $0["steps_sent"] as? Int == 0 }
        #expect(waiting.count == 3)
        #expect(waiting.allSatisfy { $0["next_send_at"] as? String == "2026-11-02T23:00:00Z" })
        let held = waiting[0]["email"] as! String
        #expect(try cli.run("show", held).stdout.contains("the daily cap of 2 message(s) is reached"))
        tick = try cli.run("tick", "--now", "2026-11-02T22:59:00Z")
        #expect(tick.stdout.contains("Sent 0 step(s)"))
        tick = try cli.run("tick", "--now", "2026-11-02T23:00:00Z")
        #expect(tick.stdout.contains("Sent 2 step(s)"))
        #expect(try cli.outbox().count == 4)
    }

    @Test func minimumSpacingLetsOneMessageGoAtATime() throws {
        let cli = try CLI()
        try setUp(cli, ["--min-spacing", "10m"])
        for index in 0..<3 {
            try cli.run("enroll", "s\(index)@example.com", "--sequence", "s", "--now", "2026-11-02T09:00:00Z")
        }
        #expect(try cli.run("tick", "--now", "2026-11-02T10:00:00Z").stdout.contains("Sent 1 step(s)"))
        #expect(try cli.run("tick", "--now", "2026-11-02T10:05:00Z").stdout.contains("Sent 0 step(s)"))
        #expect(try cli.run("tick", "--now", "2026-11-02T10:10:00Z").stdout.contains("Sent 1 step(s)"))
        #expect(try cli.outbox().count == 2)
    }

    @Test func badLimitsAreRefusedWithTheOptionNamed() throws {
        let cli = try CLI()
        var result = try cli.run(
            ["mailbox", "add", "m", "--from", "a@b.example", "--transport", "file://o", "--window", "weekdays"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--window 'weekdays'"))
        result = try cli.run(
            ["mailbox", "add", "m", "--from", "a@b.example", "--transport", "file://o", "--time-zone", "Mars/Olympus"])
        #expect(result.stderr.contains("not an IANA time zone"))
    }
}

extension CLI.Result {
    func expectSuccess(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(status == 0, "\(stderr)", sourceLocation: sourceLocation)
    }
}
