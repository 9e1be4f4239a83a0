import Foundation
import GRDB
import GRDBSQLite
import SeqbridgeCore
import SeqbridgeStore
import Testing

@testable import SeqbridgeSQLite

/// A fresh database file in its own temporary folder.
struct TemporaryDatabase {
    let folder: URL
    let path: String
    let store: SQLiteStore

    /// Reported events are filed every `filingBatch` events: every two by default,
    /// so that tests read events both filed and not yet filed.
    init(filingBatch: Int64 = 2) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("seqbridge-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        path = folder.appendingPathComponent("test.sqlite").path
        store = try SQLiteStore(path: path, eventFilingBatch: filingBatch)
    }
}

func at(_ text: String) -> Timestamp { Timestamp(iso8601: text)! }

extension SQLiteStore {
    /// A mailbox `outreach` and a sequence `launch` with the given waits.
    func seed(waits: [Int64] = [3600, 86_400, 86_400], sequence: String = "launch") async throws {
        if try await mailboxes().isEmpty {
            try await addMailbox(
                MailboxDefinition(
                    name: "outreach", fromName: "Maya", fromAddress: try EmailAddress("maya@brand.example"),
                    transport: "file://outbox"), now: at("2026-11-01T00:00:00Z"))
        }
        _ = try await applySequence(
            SequenceDefinition(
                name: sequence, mailbox: "outreach",
                steps: waits.enumerated().map {
                    StepDefinition(wait: WaitDuration(seconds: $1), subject: "S\($0 + 1)", body: "B\($0 + 1)")
                }), now: at("2026-11-01T00:00:00Z"))
    }

    /// Claims and confirms every step due at `now`, like the scheduler with a transport that accepts all.
    @discardableResult
    func sendDue(now: Timestamp) async throws -> [DueStep] {
        let due = try await dueSteps(now: now, after: nil, limit: 1000)
        let claimed = try await claim(
            due.map {
                ClaimRequest(
                    enrollmentID: $0.enrollmentID, step: $0.step,
                    messageID: "m\($0.enrollmentID).\($0.step)@brand.example",
                    recipient: $0.influencer.email)
            }, now: now)
        try await recordSends(
            claimed.map { SendReport(messageID: $0.messageID, result: .sent(providerMessageID: nil)) }, now: now)
        return due
    }

    func row(_ email: String, _ sequence: String = "launch") async throws -> ExportRow? {
        try await history(email: email)?.enrollments.last { $0.row.sequence == sequence }?.row
    }
}

@Suite("SQLite store")
struct SQLiteStoreTests {
    @Test func usesWALAndMigratesOnce() throws {
        let database = try TemporaryDatabase()
        let mode = try database.store.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        // FULL (2): each commit is synced before it is acknowledged.
        let synchronous = try database.store.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(synchronous == 2)
        // A command's store, too, leaves checkpoints to a thread of its own, below the writer's mark.
        let autocheckpoint = try database.store.writer.read { db in
            try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint")
        }
        #expect(autocheckpoint == Checkpointer.writerFallbackPages)
        let applied = try database.store.writer.read { db in try SQLiteStore.migrator.appliedIdentifiers(db) }
        #expect(
            Set(applied) == [
                "0001-initial", "0002-smtp-sending", "0003-events-by-type", "0004-events-filed-in-batches",
            ])
        // Opening again finds the schema current and changes nothing.
        _ = try SQLiteStore(path: database.path)
    }

    @Test func refusesADatabaseFromANewerVersion() throws {
        let database = try TemporaryDatabase()
        try database.store.writer.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('9999-future')")
        }
        #expect(throws: StoreError.newerSchema(found: 5, known: 4)) { try SQLiteStore(path: database.path) }
    }

    /// The refresh reads the events that change a status through their own
    /// index, never the table rows of the others.
    @Test func statusChangingEventsAreFoundByTheirIndex() throws {
        let database = try TemporaryDatabase()
        let plan = try database.store.writer.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "EXPLAIN QUERY PLAN SELECT key FROM event WHERE enrollment_id = 1 AND \(statusEventCondition)"
            ).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("event_status") && $0.contains("enrollment_id=?") }, "\(plan)")
    }

    /// The index's condition is written out in a migration; it must name exactly
    /// the types that can change a status.
    @Test func theStatusIndexCoversTheTypesThatChangeAStatus() {
        let expected = EventType.allCases.filter(\.affectsStatus).map { "type = '\($0.rawValue)'" }
            .joined(separator: " OR ")
        #expect(statusEventCondition == "(\(expected))")
        #expect(statusEventCondition == SQLiteStore.statusEventCondition0004)
    }

    /// The service's store copies the log into the database file on a thread of
    /// its own; what is committed is there for every reader, and closing stops it.
    @Test func backgroundCheckpointsKeepEveryCommit() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString).sqlite")
            .path
        var store: SQLiteStore? = try SQLiteStore(path: path, role: .service)
        try await store!.seed()
        for index in 0..<50 {
            try await store!.enroll(
                InfluencerFields(email: "c\(index)@example.com"), sequence: "launch", token: "t\(index)", force: false,
                now: at("2026-11-02T09:00:00Z"))
        }
        let autocheckpoint = try await store!.writer.read { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint")
        }
        #expect(autocheckpoint == Checkpointer.writerFallbackPages)
        let cache = try await store!.writer.read { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") }
        #expect(cache == -65_536)
        store = nil
        let reopened = try SQLiteStore(path: path)
        #expect(try await reopened.statusCounts(sequence: nil).reduce(0) { $0 + $1.count } == 50)
    }

    /// A checkpoint round cuts the log to nothing only when nothing was committed
    /// since the round before and all of it is in the database file.
    @Test func aQuietLogIsCutBackToNothing() async throws {
        let database = try TemporaryDatabase()
        try await database.store.seed()
        func enroll(_ index: Int) async throws {
            try await database.store.enroll(
                InfluencerFields(email: "c\(index)@example.com"), sequence: "launch", token: "t\(index)", force: false,
                now: at("2026-11-02T09:00:00Z"))
        }
        // The store's own checkpointing thread would cut the log between the rounds below.
        database.store.checkpointer?.stop()
        for index in 0..<20 { try await enroll(index) }
        let connection = try Checkpointer.connect(database.path)
        defer { sqlite3_close(connection) }
        func logBytes() throws -> Int {
            try FileManager.default.attributesOfItem(atPath: database.path + "-wal")[.size] as? Int ?? -1
        }

        let first = Checkpointer.pass(connection, after: Checkpointer.Log())
        #expect(first.frames > 0 && first.copied == first.frames)
        #expect(try logBytes() > 0)
        try await enroll(20)
        let second = Checkpointer.pass(connection, after: first)
        #expect(second != first)
        #expect(try logBytes() > 0)
        let third = Checkpointer.pass(connection, after: second)
        #expect(third.frames == 0)
        #expect(try logBytes() == 0)

        try await enroll(21)
        #expect(try await database.store.statusCounts(sequence: nil).reduce(0) { $0 + $1.count } == 22)
    }

    /// The service's webhook commits leave out their sync, which a second call
    /// makes; every other write, before and after, keeps `synchronous = FULL`.
    @Test func webhookCommitsCanBeSyncedApart() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sync-\(UUID().uuidString).sqlite")
            .path
        let service = try SQLiteStore(path: path, role: .service)
        #expect(service.canDeferSync)
        let event = ProviderEvent(
            source: "generic", type: .delivered, messageIDs: ["nobody@example.com"], eventID: "e1",
            timestamp: at("2026-11-02T10:00:00Z"), raw: "{}")
        let recorded = try service.recordEventsBlocking([event], now: at("2026-11-02T10:00:00Z"), deferringSync: true)
        #expect(recorded.dispositions == [.unmatched])
        try service.syncCommits()
        let synchronous = try service.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(synchronous == 2)
        let again = try service.recordEventsBlocking([event], now: at("2026-11-02T10:00:00Z"), deferringSync: true)
        #expect(again.dispositions == [.duplicate])
        // One-off commands sync every commit themselves.
        #expect(!(try SQLiteStore(path: path).canDeferSync))
        #expect(!(try SQLiteStore(path: ":memory:", role: .service).canDeferSync))
    }

    /// Once SQLite took the process-wide settings, connections open without a
    /// mutex of their own (`sqlite3_db_mutex` answers nil only then).
    @Test func connectionsOpenWithoutTheirOwnMutex() throws {
        let database = try TemporaryDatabase()
        let hasMutex = try database.store.writer.write { db in sqlite3_db_mutex(db.sqliteConnection) != nil }
        #expect(hasMutex == !SQLiteTuning.applied)
    }

    /// An import leaves foreign-key checks out while it runs and turns them back on.
    @Test func importRestoresForeignKeyChecks() async throws {
        let database = try TemporaryDatabase()
        try await database.store.seed()
        let rows = [
            ImportRow(line: 2, fields: InfluencerFields(email: "a@example.com"), token: "ta"),
            ImportRow(line: 3, fields: InfluencerFields(email: "a@example.com"), token: "tb"),
        ]
        let batches = Batches([rows])
        let outcomes = Outcomes()
        try await database.store.importRows(
            ImportOptions(sequence: "launch", updateExisting: false, dryRun: false), now: at("2026-11-02T09:00:00Z"),
            nextBatch: { batches.next() }, report: { outcomes.add($1) })
        #expect(outcomes.all.map(\.result) == [.enrolled, .rejected])
        #expect(outcomes.all.last?.reason == "duplicate of line 2")
        let checks = try await database.store.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA foreign_keys") }
        #expect(checks == 1)
    }

    /// An import writes only events that change a status, which are never filed:
    /// it moves the filing mark past them, so `show` never reads them from the table.
    @Test func importedEventsAreNotLeftForShowToScan() async throws {
        let database = try TemporaryDatabase()
        try await database.store.seed()
        try await database.store.enroll(
            InfluencerFields(email: "first@example.com"), sequence: "launch", token: "t0", force: false,
            now: at("2026-11-02T08:00:00Z"))
        let batches = Batches([
            (2..<5).map { ImportRow(line: $0, fields: InfluencerFields(email: "i\($0)@example.com"), token: "t\($0)") },
            (5..<7).map { ImportRow(line: $0, fields: InfluencerFields(email: "i\($0)@example.com"), token: "t\($0)") },
        ])
        try await database.store.importRows(
            ImportOptions(sequence: "launch", updateExisting: false, dryRun: false), now: at("2026-11-02T09:00:00Z"),
            nextBatch: { batches.next() }, report: { _, _ in })
        let (filed, last) = try await database.store.writer.read { db in
            (
                try Int64.fetchOne(db, sql: "SELECT filed_through FROM event_filing"),
                try Int64.fetchOne(db, sql: "SELECT max(id) FROM event")
            )
        }
        #expect(last == 6)
        #expect(filed == last)
        let history = try #require(try await database.store.history(email: "i6@example.com"))
        #expect(history.enrollments[0].events.map(\.type) == [.enrolled])
    }

    /// Our own events (sends, deferrals, operator actions) file what is due too,
    /// so the part `show` reads from the table stays bounded without webhooks.
    @Test func ourOwnEventsFileWhenDue() async throws {
        let database = try TemporaryDatabase()
        try await database.store.seed()
        // As if a filing batch of events had been written since the last filing.
        try await database.store.writer.write { db in
            try db.execute(sql: "UPDATE event_filing SET filed_through = ?", arguments: [-EventFiler.batch])
        }
        try await database.store.enroll(
            InfluencerFields(email: "first@example.com"), sequence: "launch", token: "t0", force: false,
            now: at("2026-11-02T08:00:00Z"))
        let filed = try await database.store.writer.read { db in
            try Int64.fetchOne(db, sql: "SELECT filed_through FROM event_filing")
        }
        #expect(filed == 1)
    }

    /// The import's first-line memory answers exactly what a dictionary would,
    /// ids in order or not (fixed seed).
    @Test func firstLinesMatchADictionary() {
        var lines = FirstLines()
        var reference: [Int64: Int] = [:]
        var state: UInt64 = 42
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var id: Int64 = 100
        for line in 2..<20_000 {
            // Mostly increasing ids, as an import creates them; now and then an older one.
            id += Int64(next() % 3) + 1
            let candidate = next() % 10 == 0 ? Int64(next() % UInt64(id)) : id
            if let first = reference[candidate] {
                #expect(lines.line(of: candidate) == first)
            } else {
                #expect(lines.line(of: candidate) == nil)
                lines.add(candidate, line: line)
                reference[candidate] = line
            }
        }
        for probe in 0..<id + 10 { #expect(lines.line(of: probe) == reference[probe]) }
    }

    /// A database made by the first release is upgraded in place and keeps its rows.
    @Test func upgradesAFirstReleaseDatabase() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("old-\(UUID().uuidString).sqlite").path
        let queue = try DatabaseQueue(path: path)
        try SQLiteStore.migrator.migrate(queue, upTo: "0001-initial")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO mailbox (name, from_address, transport, created_at)
                    VALUES ('old', 'old@example.com', 'file://outbox', 0)
                    """)
        }
        try queue.close()
        let store = try SQLiteStore(path: path)
        let mailbox = try #require(try await store.mailboxes().first)
        #expect(mailbox.definition.name == "old")
        #expect(mailbox.definition.failureGraceSeconds == 3600)
        #expect(mailbox.failingSince == nil)
    }

    /// Migration 0004 files the events a database already holds: the history
    /// reads the same before and after, and nothing is left for `show` to scan.
    @Test func upgradingFilesTheEventsAlreadyThere() async throws {
        let database = try TemporaryDatabase(filingBatch: 1_000)
        let store = database.store
        try await store.seed()
        try await store.enroll(
            InfluencerFields(email: "ana@example.com"), sequence: "launch", token: "t1", force: false,
            now: at("2026-11-02T09:00:00Z"))
        try await store.sendDue(now: at("2026-11-02T10:00:00Z"))
        let messageID = try #require(try await store.history(email: "ana@example.com")?.enrollments[0].messages[0])
            .messageID
        let events = [
            reported(.delivered, id: "d", at: "2026-11-02T10:00:05Z", messageID: messageID),
            reported(.opened, id: "o", at: "2026-11-02T10:30:00Z", messageID: messageID),
            reported(.bounced, id: "b", at: "2026-11-02T10:40:00Z", messageID: messageID, bounce: .soft),
        ]
        #expect(
            try await store.recordProviderEvents(events, now: at("2026-11-02T10:40:00Z"))
                == [.applied, .applied, .applied])
        let before = try #require(try await store.history(email: "ana@example.com")).enrollments[0].events.map(\.key)
        // Back to the schema of migration 0003, events and all.
        try await store.writer.writeWithoutTransaction { db in
            try db.execute(
                sql: """
                    DROP TABLE event_filed;
                    DROP TABLE event_filing;
                    DROP INDEX event_status;
                    DROP INDEX event_unmatched;
                    ALTER TABLE enrollment DROP COLUMN status_event_key;
                    CREATE INDEX event_enrollment_type ON event(enrollment_id, type);
                    DELETE FROM grdb_migrations WHERE identifier = '0004-events-filed-in-batches';
                    """)
        }
        let upgraded = try SQLiteStore(path: database.path)
        let after = try #require(try await upgraded.history(email: "ana@example.com")).enrollments[0].events.map(\.key)
        #expect(after == before)
        #expect(after.contains("test:o"))
        let (filed, through, last) = try await upgraded.writer.read { db in
            (
                try String.fetchAll(
                    db, sql: "SELECT e.key FROM event_filed f JOIN event e ON e.id = f.event_id ORDER BY e.id"),
                try Int64.fetchOne(db, sql: "SELECT filed_through FROM event_filing"),
                try Int64.fetchOne(db, sql: "SELECT max(id) FROM event")
            )
        }
        #expect(filed == ["test:d", "test:o"])
        #expect(through == last)

        // The row changed before the key was kept: a later bounce folds it again and
        // gives it its key, without touching what a report shows (or `updated_at`).
        let later = reported(.bounced, id: "b2", at: "2026-11-02T11:00:00Z", messageID: messageID, bounce: .soft)
        #expect(try await upgraded.recordProviderEvents([later], now: at("2026-11-02T11:00:00Z")) == [.applied])
        func key() async throws -> String? {
            try await upgraded.writer.read { db in
                try String.fetchOne(db, sql: "SELECT status_event_key FROM enrollment")
            }
        }
        #expect(try await key() == "test:b")
        let changed = RowBox()
        try await upgraded.exportRows(ExportFilter(since: at("2026-11-02T11:00:00Z"))) { changed.append($0) }
        #expect(changed.rows.isEmpty)
        // A row without its key is not trusted: one folded by older rules is put right.
        try await upgraded.writer.write { db in
            try db.execute(
                sql: "UPDATE enrollment SET status = 'finished', reason = 'replied', status_event_key = NULL")
        }
        let third = reported(.bounced, id: "b3", at: "2026-11-02T11:10:00Z", messageID: messageID, bounce: .soft)
        #expect(try await upgraded.recordProviderEvents([third], now: at("2026-11-02T11:10:00Z")) == [.applied])
        let row = try #require(try await upgraded.row("ana@example.com"))
        #expect(row.status == .error)
        #expect(row.reason == .bounced)
    }

    /// `events retry` finds the unmatched events through their own index, not by reading every event.
    @Test func unmatchedEventsAreFoundByTheirIndex() throws {
        let database = try TemporaryDatabase()
        let plan = try database.store.writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    EXPLAIN QUERY PLAN SELECT id FROM event
                    WHERE enrollment_id IS NULL AND malformed IS NULL AND source NOT IN ('operator', 'seqbridge', 'import')
                    ORDER BY id
                    """
            ).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("event_unmatched") }, "\(plan)")
    }

    @Test func enrolWaitsThenSendsInOrder() async throws {
        let store = try TemporaryDatabase().store
        try await store.seed()
        try await store.enroll(
            InfluencerFields(email: "ana@example.com", name: "Ana"), sequence: "launch", token: "t1", force: false,
            now: at("2026-11-02T09:00:00Z"))
        #expect(try await store.sendDue(now: at("2026-11-02T09:59:59Z")).isEmpty)
        #expect(try await store.row("ana@example.com")?.status == .scheduled)
        #expect(try await store.row("ana@example.com")?.nextSendAt == at("2026-11-02T10:00:00Z"))

        #expect(try await store.sendDue(now: at("2026-11-02T10:00:00Z")).count == 1)
        let row = try #require(try await store.row("ana@example.com"))
        #expect(row.status == .inProgress)
        #expect(row.stepsSent == 1)
        #expect(row.nextSendAt == at("2026-11-03T10:00:00Z"))

        try await store.sendDue(now: at("2026-11-03T10:00:00Z"))
        try await store.sendDue(now: at("2026-11-04T10:00:00Z"))
        let done = try #require(try await store.row("ana@example.com"))
        #expect(done.status == .finished)
        #expect(done.reason == .completed)
        #expect(done.finishedAt == at("2026-11-04T10:00:00Z"))
        #expect(done.nextSendAt == nil)
    }

    @Test func aStepIsClaimedOnlyOnce() async throws {
        let store = try TemporaryDatabase().store
        try await store.seed(waits: [0, 60])
        try await store.enroll(
            InfluencerFields(email: "ana@example.com"), sequence: "launch", token: "t1", force: false,
            now: at("2026-11-02T09:00:00Z"))
        let due = try await store.dueSteps(now: at("2026-11-02T09:00:00Z"), after: nil, limit: 10)
        let request = ClaimRequest(
            enrollmentID: due[0].enrollmentID, step: 1, messageID: "a@x.example", recipient: "ana@example.com")
        let other = ClaimRequest(
            enrollmentID: due[0].enrollmentID, step: 1, messageID: "b@x.example", recipient: "ana@example.com")
        #expect(try await store.claim([request], now: at("2026-11-02T09:00:00Z")).count == 1)
        // A second run (or a restart after a crash) cannot claim the same step again.
        #expect(try await store.claim([other], now: at("2026-11-02T09:00:01Z")).isEmpty)
        #expect(try await store.dueSteps(now: at("2026-11-03T00:00:00Z"), after: nil, limit: 10).isEmpty)
        #expect(try await store.unconfirmedCount() == 1)
        let history = try #require(try await store.history(email: "ana@example.com"))
        #expect(history.enrollments[0].messages.map(\.state) == [.claimed])
    }

    @Test func deferredSendReleasesTheClaimAndRetriesLater() async throws {
        let store = try TemporaryDatabase().store
        try await store.seed(waits: [0, 60])
        try await store.enroll(
            InfluencerFields(email: "ana@example.com"), sequence: "launch", token: "t1", force: false,
            now: at("2026-11-02T09:00:00Z"))
        let due = try await store.dueSteps(now: at("2026-11-02T09:00:00Z"), after: nil, limit: 10)
        let request = ClaimRequest(
            enrollmentID: due[0].enrollmentID, step: 1, messageID: "a@x.example", recipient: "ana@example.com")
        _ = try await store.claim([request], now: at("2026-11-02T09:00:00Z"))
        try await store.recordSends(
            [
                SendReport(
                    messageID: "a@x.example",
                    result: .deferred(detail: "disk full", retryAt: at("2026-11-02T09:05:00Z")))
            ],
            now: at("2026-11-02T09:00:00Z"))
        #expect(try await store.unconfirmedCount() == 0)
        #expect(try await store.row("ana@example.com")?.status == .scheduled)
        #expect(try await store.dueSteps(now: at("2026-11-02T09:04:59Z"), after: nil, limit: 10).isEmpty)
        #expect(try await store.sendDue(now: at("2026-11-02T09:05:00Z")).count == 1)
        #expect(try await store.row("ana@example.com")?.status == .inProgress)
    }

    @Test func synchronousBounceIsAnErrorAndSuppressesHardBounces() async throws {
        let store = try TemporaryDatabase().store
        try await store.seed(waits: [0, 60])
        try await store.enroll(
            InfluencerFields(email: "gone@example.com"), sequence: "launch", token: "t1", force: false,
            now: at("2026-11-02T09:00:00Z"))
        let due = try await store.dueSteps(now: at("2026-11-02T09:00:00Z"), after: nil, limit: 10)
        _ = try await store.claim(
            [
                ClaimRequest(
                    enrollmentID: due[0].enrollmentID, step: 1, messageID: "a@x.example", recipient: "gone@example.com")
            ],
            now: at("2026-11-02T09:00:00Z"))
        try await store.recordSends(
            [
                SendReport(
                    messageID: "a@x.example", result: .bounced(detail: "550 5.1.1 user unknown", bounceClass: .hard))
            ],
            now: at("2026-11-02T09:00:00Z"))
        let row = try #require(try await store.row("gone@example.com"))
        #expect(row.status == .error)
        #expect(row.reason == .bounced)
        #expect(row.detail == "550 5.1.1 user unknown")
        #expect(try await store.suppressions().map(\.email) == ["gone@example.com"])
    }

    @Test func reEnrolmentRules() async throws {
        let store = try TemporaryDatabase().store
        try await store.seed(waits: [0, 60])
        let now = at("2026-11-02T09:00:00Z")
        try await store.enroll(
            InfluencerFields(email: "ana@example.com"), sequence: "launch", token: "t1", force: false, now: now)
        await #expect(
            throws: StoreError.alreadyEnrolled(email: "ana@example.com", sequence: "launch", status: "Scheduled")
        ) {
            try await store.enroll(
                InfluencerFields(email: "ana@example.com"), sequence: "launch", token: "t2", force: false, now: now)
        }
        _ = try await store.disconnectMailbox(named: "outreach", detail: "token revoked", now: now)
        #expect(try await store.row("ana@example.com")?.reason == .mailboxDisconnected)
        #expect(try await store.row("ana@example.com")?.detail == "token revoked")
        try await store.reconnectMailbox(named: "outreach", now: now)
        // Reconnecting revives nothing.
        #expect(try await store.row("ana@example.com")?.status == .error)
        await #expect(throws: StoreError.errorEnrollmentExists(email: "ana@example.com", sequence: "launch")) {
            try await store.enroll(
                InfluencerFields(email: "ana@example.com"), sequence: "launch", token: "t2", force: false, now: now)
        }
        try await store.reenroll(email: "ana@example.com", sequence: "launch", token: "t3", force: false, now: now)
        let history = try #require(try await store.history(email: "ana@example.com"))
        #expect(history.enrollments.map(\.row.status) == [.finished, .scheduled])
        #expect(history.enrollments[0].row.reason == .unenrolled)
    }

    @Test func bulkReenrollSkipsSuppressedAddresses() async throws {
        let store = try TemporaryDatabase().store
        try await store.seed(waits: [0, 60])
        let now = at("2026-11-02T09:00:00Z")
        for email in ["a@example.com", "b@example.com", "c@example.com"] {
            try await store.enroll(
                InfluencerFields(email: email), sequence: "launch", token: "t-\(email)", force: false, now: now)
        }
        _ = try await store.disconnectMailbox(named: "outreach", detail: "logged off", now: now)
        try await store.reconnectMailbox(named: "outreach", now: now)
        try await store.suppress(email: "b@example.com", reason: .manual, detail: nil, now: now)
        let result = try await store.reenrollAll(
            sequence: "launch", status: .error, now: now, makeToken: { UUID().uuidString })
        #expect(result.reenrolled == 2)
        #expect(result.skipped.map(\.email) == ["b@example.com"])
        let counts = try await store.statusCounts(sequence: "launch")
        #expect(counts.first { $0.status == .scheduled }?.count == 2)
        #expect(counts.first { $0.status == .error }?.count == 1)
    }

    @Test func suppressedAddressesNeedForce() async throws {
        let store = try TemporaryDatabase().store
        try await store.seed()
        let now = at("2026-11-02T09:00:00Z")
        try await store.suppress(email: "no@example.com", reason: .unsubscribed, detail: nil, now: now)
        await #expect(throws: StoreError.suppressed(email: "no@example.com", reason: "unsubscribed")) {
            try await store.enroll(
                InfluencerFields(email: "no@example.com"), sequence: "launch", token: "t1", force: false, now: now)
        }
        try await store.enroll(
            InfluencerFields(email: "no@example.com"), sequence: "launch", token: "t1", force: true, now: now)
        #expect(try await store.row("no@example.com")?.status == .scheduled)
    }

    @Test func changingAnAddressRestartsNothing() async throws {
        let store = try TemporaryDatabase().store
        try await store.seed(waits: [0, 60])
        try await store.enroll(
            InfluencerFields(email: "old@example.com"), sequence: "launch", token: "t1", force: false,
            now: at("2026-11-02T09:00:00Z"))
        try await store.sendDue(now: at("2026-11-02T09:00:00Z"))
        let before = try #require(try await store.row("old@example.com"))
        try await store.changeEmail(from: "old@example.com", to: "new@example.com", now: at("2026-11-02T09:00:30Z"))
        #expect(try await store.history(email: "old@example.com") == nil)
        let after = try #require(try await store.row("new@example.com"))
        #expect(after.status == before.status)
        #expect(after.stepsSent == 1)
        #expect(after.nextSendAt == before.nextSendAt)
        let history = try #require(try await store.history(email: "new@example.com"))
        #expect(history.enrollments[0].messages.map(\.recipient) == ["old@example.com"])
    }

    @Test func shrinkingASequenceUnderRunningEnrollmentsIsRefused() async throws {
        let store = try TemporaryDatabase().store
        try await store.seed(waits: [0, 60, 60])
        try await store.enroll(
            InfluencerFields(email: "ana@example.com"), sequence: "launch", token: "t1", force: false,
            now: at("2026-11-02T09:00:00Z"))
        try await store.sendDue(now: at("2026-11-02T09:00:00Z"))
        try await store.sendDue(now: at("2026-11-02T09:01:00Z"))
        await #expect(throws: StoreError.stepsRemovedWhileActive(sequence: "launch", active: 1, steps: 2)) {
            try await store.seed(waits: [0, 60])
        }
        // Changing a wait moves the next send time of running enrollments.
        try await store.seed(waits: [0, 60, 7200])
        #expect(try await store.row("ana@example.com")?.nextSendAt == at("2026-11-02T11:01:00Z"))
    }

    @Test func exportStreamsEveryRowWithFilters() async throws {
        let store = try TemporaryDatabase().store
        try await store.seed(waits: [0])
        try await store.seed(waits: [3600], sequence: "later")
        let now = at("2026-11-02T09:00:00Z")
        for index in 0..<50 {
            try await store.enroll(
                InfluencerFields(email: "i\(index)@example.com"), sequence: index % 2 == 0 ? "launch" : "later",
                token: "t\(index)", force: false, now: now)
        }
        try await store.sendDue(now: now)
        let rows = RowBox()
        try await store.exportRows(ExportFilter(sequence: "launch")) { rows.append($0) }
        #expect(rows.rows.count == 25)
        #expect(rows.rows.allSatisfy { $0.status == .finished && $0.reason == .completed })
        let scheduled = RowBox()
        try await store.exportRows(ExportFilter(status: .scheduled)) { scheduled.append($0) }
        #expect(scheduled.rows.count == 25)
        #expect(scheduled.rows.allSatisfy { $0.sequence == "later" })
        await #expect(throws: StoreError.unknownSequence("nope")) {
            try await store.exportRows(ExportFilter(sequence: "nope")) { _ in }
        }
    }
}

final class RowBox: @unchecked Sendable {
    var rows: [ExportRow] = []
    func append(_ row: ExportRow) { rows.append(row) }
}

/// Hands out prepared import batches, one per call.
final class Batches: @unchecked Sendable {
    private var remaining: [[ImportRow]]
    init(_ batches: [[ImportRow]]) { remaining = batches }
    func next() -> [ImportRow]? { remaining.isEmpty ? nil : remaining.removeFirst() }
}

/// Collects the outcomes an import reports.
final class Outcomes: @unchecked Sendable {
    private(set) var all: [ImportOutcome] = []
    func add(_ outcomes: [ImportOutcome]) { all += outcomes }
}
