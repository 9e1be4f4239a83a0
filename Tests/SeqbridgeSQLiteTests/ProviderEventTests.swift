import Foundation
import SeqbridgeCore
import SeqbridgeStore
import Testing

@testable import SeqbridgeSQLite

func reported(
    _ type: EventType, id: String, at time: String, messageID: String? = nil, token: String? = nil,
    providerID: String? = nil, recipient: String? = nil, bounce: BounceClass? = nil, detail: String? = nil
) -> ProviderEvent {
    ProviderEvent(
        source: "test", type: type, recipient: recipient, messageIDs: messageID.map { [$0] } ?? [],
        providerMessageID: providerID, token: token, eventID: id, timestamp: at(time), bounceClass: bounce,
        detail: detail, raw: "{}")
}

@Suite("Reported events")
struct ProviderEventTests {
    /// One enrollment of a three-step sequence with step 1 sent as `m1.1@brand.example`.
    func sentOne() async throws -> SQLiteStore {
        let store = try TemporaryDatabase().store
        try await store.seed(waits: [0, 86_400, 86_400])
        try await store.enroll(
            InfluencerFields(email: "ana@example.com"), sequence: "launch", token: "tok-ana", force: false,
            now: at("2026-11-02T09:00:00Z"))
        let due = try await store.sendDue(now: at("2026-11-02T10:00:00Z"))
        #expect(due.count == 1)
        return store
    }

    func messageID(_ store: SQLiteStore, _ email: String = "ana@example.com") async throws -> String {
        try #require(try await store.history(email: email)?.enrollments.last?.messages.first?.messageID)
    }

    @Test func duplicatesAreAppliedOnce() async throws {
        let store = try await sentOne()
        let id = try await messageID(store)
        let event = reported(
            .bounced, id: "b1", at: "2026-11-02T10:05:00Z", messageID: id, bounce: .hard, detail: "550 5.1.1")
        #expect(
            try await store.recordProviderEvents([event, event], now: at("2026-11-02T10:06:00Z")) == [
                .applied, .duplicate,
            ])
        #expect(try await store.recordProviderEvents([event], now: at("2026-11-02T10:07:00Z")) == [.duplicate])
        let history = try #require(try await store.history(email: "ana@example.com"))
        #expect(history.enrollments[0].events.filter { $0.type == .bounced }.count == 1)
        #expect(history.enrollments[0].row.reason == .bounced)
        #expect(history.suppressed == .hardBounce)
    }

    /// Message-IDs are remembered once matched; a claim released after a
    /// deferral removes its message, and with it what was remembered.
    @Test func aReleasedClaimIsForgottenByTheMatcher() async throws {
        let store = try TemporaryDatabase().store
        try await store.seed(waits: [0, 86_400])
        try await store.enroll(
            InfluencerFields(email: "ana@example.com"), sequence: "launch", token: "tok-ana", force: false,
            now: at("2026-11-02T09:00:00Z"))
        let due = try await store.dueSteps(now: at("2026-11-02T10:00:00Z"), after: nil, limit: 10)
        let claim = ClaimRequest(
            enrollmentID: due[0].enrollmentID, step: 1, messageID: "held@brand.example", recipient: "ana@example.com")
        _ = try await store.claim([claim], now: at("2026-11-02T10:00:00Z"))
        let early = reported(.queued, id: "q1", at: "2026-11-02T10:00:01Z", messageID: "held@brand.example")
        #expect(try await store.recordProviderEvents([early], now: at("2026-11-02T10:00:02Z")) == [.applied])
        try await store.recordSends(
            [
                SendReport(
                    messageID: "held@brand.example",
                    result: .deferred(detail: "421 try later", retryAt: at("2026-11-02T10:10:00Z")))
            ], now: at("2026-11-02T10:00:03Z"))
        let late = reported(.delivered, id: "d1", at: "2026-11-02T10:00:04Z", messageID: "held@brand.example")
        #expect(try await store.recordProviderEvents([late], now: at("2026-11-02T10:00:05Z")) == [.unmatched])
    }

    @Test func orderDoesNotMatter() async throws {
        let events = [
            reported(.delivered, id: "d", at: "2026-11-02T10:00:02Z", token: "tok-ana"),
            reported(.opened, id: "o", at: "2026-11-02T10:20:00Z", token: "tok-ana"),
            reported(.replied, id: "r", at: "2026-11-02T11:00:00Z", token: "tok-ana"),
            reported(.deferred, id: "x", at: "2026-11-02T10:00:01Z", token: "tok-ana"),
        ]
        var outcomes: [String] = []
        for order in [events, events.reversed(), [events[2], events[0], events[3], events[1]]] {
            let store = try await sentOne()
            for event in order { _ = try await store.recordProviderEvents([event], now: at("2026-11-02T12:00:00Z")) }
            let row = try #require(try await store.row("ana@example.com"))
            outcomes.append("\(row.status)/\(row.reason?.rawValue ?? "")/\(row.finishedAt?.iso8601 ?? "")")
        }
        #expect(Set(outcomes) == ["finished/replied/2026-11-02T11:00:00Z"])
    }

    @Test func matchingChainAndWeakMatches() async throws {
        let store = try await sentOne()
        let id = try await messageID(store)
        try await store.recordSends([], now: at("2026-11-02T10:00:00Z"))
        #expect(
            try await store.recordProviderEvents(
                [
                    reported(
                        .delivered, id: "1", at: "2026-11-02T10:01:00Z", messageID: "<not ours>@x", token: "tok-ana"),
                    reported(.opened, id: "2", at: "2026-11-02T10:02:00Z", recipient: "ana@example.com"),
                    reported(.clicked, id: "3", at: "2026-11-02T10:03:00Z", recipient: "nobody@example.com"),
                    reported(.delivered, id: "4", at: "2026-11-02T10:01:00Z", messageID: id),
                ], now: at("2026-11-02T10:10:00Z")) == [.applied, .applied, .unmatched, .applied])
        let events = try #require(try await store.history(email: "ana@example.com")?.enrollments[0].events)
        #expect(events.first { $0.type == .opened }?.detail?.contains("weak match") == true)
        #expect(events.first { $0.type == .opened }?.messageID == id)
    }

    @Test func lateBounceForAnOldEnrollmentLeavesTheNewOneAlone() async throws {
        let store = try TemporaryDatabase().store
        try await store.seed(waits: [0])
        try await store.enroll(
            InfluencerFields(email: "ana@example.com"), sequence: "launch", token: "old", force: false,
            now: at("2026-11-02T09:00:00Z"))
        try await store.sendDue(now: at("2026-11-02T09:00:00Z"))
        let oldMessage = try await messageID(store)
        // Completed, then enrolled again.
        try await store.reenroll(
            email: "ana@example.com", sequence: "launch", token: "new", force: false, now: at("2026-11-03T09:00:00Z"))
        let outcome = try await store.recordProviderEvents(
            [reported(.bounced, id: "late", at: "2026-11-02T09:30:00Z", messageID: oldMessage, bounce: .hard)],
            now: at("2026-11-03T09:30:00Z"))
        #expect(outcome == [.applied])
        let history = try #require(try await store.history(email: "ana@example.com"))
        #expect(history.enrollments.map(\.row.status) == [.error, .scheduled])
        #expect(history.enrollments[0].row.reason == .bounced)
    }

    /// A bounce that, folded with the rest, changes nothing leaves the row as it
    /// was, `updated_at` included; one that does change it (an earlier bounce
    /// now explains the Error) is written.
    @Test func aBounceThatChangesNothingLeavesTheRowAlone() async throws {
        let store = try await sentOne()
        let id = try await messageID(store)
        func changedSince(_ time: String) async throws -> [String] {
            let box = RowBox()
            try await store.exportRows(ExportFilter(since: at(time))) { box.append($0) }
            return box.rows.map(\.email)
        }
        let first = reported(
            .bounced, id: "b1", at: "2026-11-02T10:05:00Z", messageID: id, bounce: .soft, detail: "452 mailbox full")
        #expect(try await store.recordProviderEvents([first], now: at("2026-11-02T10:06:00Z")) == [.applied])
        #expect(try await changedSince("2026-11-02T10:06:00Z") == ["ana@example.com"])

        let later = reported(
            .bounced, id: "b2", at: "2026-11-02T10:30:00Z", messageID: id, bounce: .soft, detail: "452 still full")
        #expect(try await store.recordProviderEvents([later], now: at("2026-11-02T10:31:00Z")) == [.applied])
        #expect(try await changedSince("2026-11-02T10:07:00Z") == [])
        var row = try #require(try await store.row("ana@example.com"))
        #expect(row.status == .error)
        #expect(row.detail == "452 mailbox full")

        let earlier = reported(
            .bounced, id: "b0", at: "2026-11-02T10:01:00Z", messageID: id, bounce: .hard, detail: "550 5.1.1 unknown")
        #expect(try await store.recordProviderEvents([earlier], now: at("2026-11-02T10:40:00Z")) == [.applied])
        #expect(try await changedSince("2026-11-02T10:40:00Z") == ["ana@example.com"])
        row = try #require(try await store.row("ana@example.com"))
        #expect(row.detail == "550 5.1.1 unknown")
        #expect(row.finishedAt == at("2026-11-02T10:01:00Z"))

        // At the same time as the change: the key breaks the tie. After it, nothing changes.
        let tiedAfter = reported(
            .bounced, id: "b9", at: "2026-11-02T10:01:00Z", messageID: id, bounce: .hard, detail: "550 tied after")
        #expect(try await store.recordProviderEvents([tiedAfter], now: at("2026-11-02T10:50:00Z")) == [.applied])
        #expect(try await changedSince("2026-11-02T10:50:00Z") == [])
        // Before it, the new bounce explains the status.
        let tiedBefore = reported(
            .bounced, id: "a0", at: "2026-11-02T10:01:00Z", messageID: id, bounce: .hard, detail: "550 tied before")
        #expect(try await store.recordProviderEvents([tiedBefore], now: at("2026-11-02T11:00:00Z")) == [.applied])
        row = try #require(try await store.row("ana@example.com"))
        #expect(row.detail == "550 tied before")
        let key = try await store.writer.read { db in
            try String.fetchOne(db, sql: "SELECT status_event_key FROM enrollment")
        }
        #expect(key == "test:a0")
    }

    /// A two-step sequence with one enrollment, step 1 claimed as `messageID` and not yet reported sent.
    func claimStepOne(_ store: SQLiteStore, messageID: String) async throws {
        try await store.seed(waits: [0, 60])
        try await store.enroll(
            InfluencerFields(email: "ana@example.com"), sequence: "launch", token: "tok", force: false,
            now: at("2026-11-02T09:00:00Z"))
        let due = try await store.dueSteps(now: at("2026-11-02T09:00:00Z"), after: nil, limit: 10)
        _ = try await store.claim(
            [
                ClaimRequest(
                    enrollmentID: due[0].enrollmentID, step: 1, messageID: messageID,
                    recipient: "ana@example.com")
            ],
            now: at("2026-11-02T09:00:00Z"))
    }

    /// Opens and deliveries are filed under their enrollment in batches; `show`
    /// finds every event once, filed or not, and an event matched after a filing
    /// passed it (while it had no enrollment) is filed when it is matched.
    @Test func historyHasEveryEventOnceAcrossFilings() async throws {
        let database = try TemporaryDatabase(filingBatch: 3)
        let store = database.store
        try await claimStepOne(store, messageID: "m1@x.example")
        // Reported before the send is recorded: no enrollment yet.
        #expect(
            try await store.recordProviderEvents(
                [reported(.delivered, id: "early", at: "2026-11-02T09:00:01Z", providerID: "p-1")],
                now: at("2026-11-02T09:00:01Z")) == [.unmatched])
        let opens = (1...4).map {
            reported(.opened, id: "o\($0)", at: "2026-11-02T09:0\($0):30Z", messageID: "m1@x.example")
        }
        #expect(
            try await store.recordProviderEvents(opens, now: at("2026-11-02T09:05:00Z"))
                == Array(repeating: .applied, count: 4))
        func filedThrough() async throws -> Int64 {
            try await store.writer.read { db in try Int64.fetchOne(db, sql: "SELECT filed_through FROM event_filing") }
                ?? 0
        }
        let beforeSend = try await filedThrough()
        #expect(beforeSend > 0)
        try await store.recordSends(
            [SendReport(messageID: "m1@x.example", result: .sent(providerMessageID: "p-1"))],
            now: at("2026-11-02T09:00:02Z"))
        let more = [
            reported(.clicked, id: "c1", at: "2026-11-02T09:06:00Z", messageID: "m1@x.example"),
            reported(.opened, id: "o5", at: "2026-11-02T09:07:00Z", messageID: "m1@x.example"),
        ]
        #expect(try await store.recordProviderEvents(more, now: at("2026-11-02T09:07:00Z")) == [.applied, .applied])
        let filedAfter = try await filedThrough()
        #expect(filedAfter > beforeSend)
        // Written after the last filing: found in the table.
        let unfiled = [reported(.opened, id: "o6", at: "2026-11-02T09:08:00Z", messageID: "m1@x.example")]
        #expect(try await store.recordProviderEvents(unfiled, now: at("2026-11-02T09:08:00Z")) == [.applied])
        #expect(try await filedThrough() == filedAfter)

        let history = try #require(try await store.history(email: "ana@example.com"))
        let keys = history.enrollments[0].events.map(\.key)
        #expect(
            keys == [
                "enrolled:tok", "test:early", "sent:m1@x.example", "test:o1", "test:o2", "test:o3", "test:o4",
                "test:c1", "test:o5", "test:o6",
            ], "\(keys)")
        let filed = try await store.writer.read { db in
            try String.fetchAll(
                db, sql: "SELECT e.key FROM event_filed f JOIN event e ON e.id = f.event_id ORDER BY e.id")
        }
        #expect(filed.contains("test:early"))
        #expect(!filed.contains("enrolled:tok"))
    }

    @Test func unmatchedThenMatchedWhenTheSendIsRecorded() async throws {
        let store = try TemporaryDatabase().store
        try await claimStepOne(store, messageID: "fast@x.example")
        // The provider reports the bounce before we recorded the send.
        #expect(
            try await store.recordProviderEvents(
                [reported(.bounced, id: "early", at: "2026-11-02T09:00:01Z", providerID: "p-1", bounce: .hard)],
                now: at("2026-11-02T09:00:01Z")) == [.unmatched])
        #expect(try await store.row("ana@example.com")?.status == .scheduled)
        try await store.recordSends(
            [SendReport(messageID: "fast@x.example", result: .sent(providerMessageID: "p-1"))],
            now: at("2026-11-02T09:00:02Z"))
        let row = try #require(try await store.row("ana@example.com"))
        #expect(row.status == .error)
        #expect(row.reason == .bounced)
        #expect(try await store.retryUnmatched(now: at("2026-11-02T09:01:00Z")) == (0, 0))
    }

    @Test func retryAppliesEventsWhoseMessageAppearedLater() async throws {
        let store = try TemporaryDatabase().store
        try await store.seed(waits: [0, 60])
        #expect(
            try await store.recordProviderEvents(
                [reported(.complained, id: "c", at: "2026-11-02T10:00:00Z", recipient: "ana@example.com")],
                now: at("2026-11-02T10:00:00Z")) == [.unmatched])
        try await store.enroll(
            InfluencerFields(email: "ana@example.com"), sequence: "launch", token: "tok", force: false,
            now: at("2026-11-02T09:00:00Z"))
        try await store.sendDue(now: at("2026-11-02T09:00:00Z"))
        #expect(try await store.retryUnmatched(now: at("2026-11-02T10:01:00Z")) == (1, 0))
        #expect(try await store.row("ana@example.com")?.reason == .spamComplaint)
    }

    @Test func weakMatchesWaitWhileAMessageIsInFlight() async throws {
        let store = try TemporaryDatabase().store
        try await store.seed(waits: [0])
        try await store.enroll(
            InfluencerFields(email: "ana@example.com"), sequence: "launch", token: "old", force: false,
            now: at("2026-11-02T09:00:00Z"))
        try await store.sendDue(now: at("2026-11-02T09:00:00Z"))
        try await store.reenroll(
            email: "ana@example.com", sequence: "launch", token: "new", force: false, now: at("2026-11-03T09:00:00Z"))
        let due = try await store.dueSteps(now: at("2026-11-03T09:00:00Z"), after: nil, limit: 10)
        _ = try await store.claim(
            [
                ClaimRequest(
                    enrollmentID: due[0].enrollmentID, step: 1, messageID: "new@x.example", recipient: "ana@example.com"
                )
            ],
            now: at("2026-11-03T09:00:00Z"))
        let bounce = reported(
            .bounced, id: "b", at: "2026-11-03T09:00:05Z", recipient: "ana@example.com", bounce: .hard)
        #expect(try await store.recordProviderEvents([bounce], now: at("2026-11-03T09:00:06Z")) == [.unmatched])
        #expect(try await store.history(email: "ana@example.com")?.enrollments[0].row.reason == .completed)
        // An event older than every message matches none of them.
        let early = reported(.complained, id: "c", at: "2026-11-01T00:00:00Z", recipient: "ana@example.com")
        try await store.recordSends(
            [SendReport(messageID: "new@x.example", result: .sent(providerMessageID: nil))],
            now: at("2026-11-03T09:00:07Z"))
        #expect(try await store.recordProviderEvents([early], now: at("2026-11-03T09:01:00Z")) == [.unmatched])
    }

    @Test func malformedEventsAreKeptWithTheirReason() async throws {
        let store = try TemporaryDatabase().store
        var event = reported(.unknown, id: "bad", at: "2026-11-02T10:00:00Z")
        event.malformed = "it has no type"
        #expect(try await store.recordProviderEvents([event], now: at("2026-11-02T10:00:00Z")) == [.malformed])
        #expect(try await store.retryUnmatched(now: at("2026-11-02T10:00:00Z")) == (0, 0))
    }
}
