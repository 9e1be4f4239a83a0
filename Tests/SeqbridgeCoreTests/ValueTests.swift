import Testing

@testable import SeqbridgeCore

@Suite("Values")
struct ValueTests {
    @Test(arguments: [
        ("0", 0), ("90s", 90), ("30m", 1800), ("1h", 3600), ("3d", 259_200), ("2w", 1_209_600),
        ("1d 12h", 129_600),
    ])
    func waitDurationsParse(text: String, seconds: Int64) throws {
        let wait = try WaitDuration(parsing: text)
        #expect(wait.seconds == seconds)
        #expect(try WaitDuration(parsing: wait.description).seconds == seconds)
    }

    @Test(arguments: ["", "3x", "h", "-1h", "1.5h", "abc"])
    func badWaitDurationsAreRefused(text: String) {
        #expect(throws: WaitDuration.ParseError.self) { try WaitDuration(parsing: text) }
    }

    @Test func iso8601RoundTrips() throws {
        let samples = [
            "2026-11-02T10:00:00Z", "1999-12-31T23:59:59.123Z", "2024-02-29T00:00:00Z", "1969-07-20T20:17:40Z",
        ]
        for text in samples {
            let parsed = try #require(Timestamp(iso8601: text))
            #expect(parsed.iso8601 == text)
        }
        #expect(Timestamp(iso8601: "2026-11-02T12:00:00+02:00")?.iso8601 == "2026-11-02T10:00:00Z")
        #expect(Timestamp(iso8601: "2026-11-02")?.iso8601 == "2026-11-02T00:00:00Z")
        #expect(Timestamp(iso8601: "1970-01-01T00:00:00Z")?.millisecondsSinceEpoch == 0)
        #expect(Timestamp(iso8601: "2026-11-02T10:00:00.123456Z")?.millisecondsSinceEpoch == 1_793_613_600_123)
    }

    @Test(arguments: [
        "", "2026-13-01T00:00:00Z", "2025-02-29", "2026-11-02T25:00:00Z", "yesterday", "2026-11-02T10:00",
    ])
    func badTimesAreRefused(text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test func weekdaysAreRight() {
        // 2 November 2026 is a Monday.
        #expect(Timestamp(iso8601: "2026-11-02T10:00:00Z")?.utcComponents.weekday == 1)
    }

    @Test func addressesAreNormalised() throws {
        #expect(try EmailAddress("  Ana.Lima@Example.COM ").value == "ana.lima@example.com")
        #expect(try EmailAddress("<ben+news@example.org>").value == "ben+news@example.org")
        #expect(try EmailAddress("ana@example.com").domain == "example.com")
    }

    @Test(arguments: [
        "", "plainaddress", "a@b", "a@@example.com", "a b@example.com", "a@exa mple.com", ".a@example.com",
        "a..b@example.com", "a@-example.com",
    ])
    func badAddressesAreRefused(text: String) {
        #expect(throws: EmailAddress.Problem.self) { try EmailAddress(text) }
    }
}
