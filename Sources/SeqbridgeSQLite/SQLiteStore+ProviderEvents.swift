import Foundation
import GRDB
import SeqbridgeCore
import SeqbridgeStore

extension SQLiteStore: BlockingEventRecorder {
    public func recordEvents(_ events: [ProviderEvent], now: Timestamp) async throws -> RecordedEvents {
        guard !events.isEmpty else { return RecordedEvents(dispositions: [], transitions: [:]) }
        return try await writer.write { db in try self.recordAll(events, now: now, in: db) }
    }

    public func recordEventsBlocking(_ events: [ProviderEvent], now: Timestamp, deferringSync: Bool) throws
        -> RecordedEvents
    {
        guard !events.isEmpty else { return RecordedEvents(dispositions: [], transitions: [:]) }
        guard deferringSync, logSync != nil else {
            return try writer.write { db in try recordAll(events, now: now, in: db) }
        }
        return try writer.writeWithoutTransaction { db in
            // This commit alone leaves out the sync; every other write keeps `FULL`.
            try db.with(pragma: "synchronous", "NORMAL", restoring: "FULL") {
                var recorded = RecordedEvents(dispositions: [], transitions: [:])
                try db.inTransaction(.immediate) {
                    recorded = try recordAll(events, now: now, in: db)
                    return .commit
                }
                return recorded
            }
        }
    }

    public var canDeferSync: Bool { logSync != nil }

    public func syncCommits() throws {
        try logSync?.sync()
    }

    /// Records the events in the caller's transaction and refreshes the statuses they touch.
    private func recordAll(_ events: [ProviderEvent], now: Timestamp, in db: Database) throws -> RecordedEvents {
        // The enrollments whose status may change, with their new events.
        var pending: [Int64: [Event]] = [:]
        let statements = try EventStatements(db, messages: messages)
        let dispositions = try events.map {
            try Self.record($0, now: now, refreshLater: &pending, statements: statements, in: db)
        }
        if dispositions.contains(where: { $0 != .duplicate }) {
            try EventFiler(db).fileIfDue(minimum: eventFilingBatch)
        }
        // Each touched enrollment is folded once, however many of its events came in.
        var transitions: [StatusChange: Int] = [:]
        guard !pending.isEmpty else { return RecordedEvents(dispositions: dispositions, transitions: transitions) }
        let refresher = try Refresher(db)
        for (enrollmentID, newEvents) in pending {
            if let (before, after) = try refresher.refresh(enrollmentID: enrollmentID, now: now, newEvents: newEvents),
                before.0 != after.0 || before.1 != after.1
            {
                transitions[StatusChange(from: before.0, to: after.0, reason: after.1), default: 0] += 1
            }
        }
        return RecordedEvents(dispositions: dispositions, transitions: transitions)
    }

    public func retryUnmatched(now: Timestamp) async throws -> (applied: Int, unmatched: Int) {
        try await writer.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, type, occurred_at, source, bounce_class, detail, recipient, match FROM event
                    WHERE enrollment_id IS NULL AND malformed IS NULL AND source NOT IN ('operator', 'seqbridge', 'import')
                    ORDER BY id
                    """)
            var applied = 0
            for row in rows {
                let eventID: Int64 = row["id"]
                let hints = try String.fetchAll(
                    db, sql: "SELECT hint FROM unmatched_hint WHERE event_id = ?", arguments: [eventID])
                let candidate = Candidate(
                    messageIDs: hints.filter { $0.hasPrefix("mid:") }.map { String($0.dropFirst(4)) },
                    token: hints.first { $0.hasPrefix("tok:") }.map { String($0.dropFirst(4)) },
                    providerMessageID: hints.first { $0.hasPrefix("pid:") }.map { String($0.dropFirst(4)) },
                    recipient: row["recipient"], occurredAt: Timestamp(millisecondsSinceEpoch: row["occurred_at"]))
                if let match = try Self.match(candidate, in: db) {
                    try Self.attach(eventID: eventID, to: match, now: now, in: db)
                    applied += 1
                }
            }
            return (applied, rows.count - applied)
        }
    }

    public func matchMessages(_ events: [ProviderEvent]) async throws -> [MessageMatch?] {
        try await writer.read { db in
            try events.map { event -> MessageMatch? in
                guard event.malformed == nil,
                    let found = try Self.match(
                        Candidate(
                            messageIDs: event.messageIDs, token: event.token,
                            providerMessageID: event.providerMessageID, recipient: event.recipient,
                            occurredAt: event.timestamp), in: db),
                    let row = try Row.fetchOne(
                        db,
                        sql: """
                            SELECT influencer.email, sequence.name FROM enrollment
                            JOIN influencer ON influencer.id = enrollment.influencer_id
                            JOIN sequence ON sequence.id = enrollment.sequence_id
                            WHERE enrollment.id = ?
                            """, arguments: [found.enrollmentID])
                else { return nil }
                return MessageMatch(messageID: found.messageID, email: row[0], sequence: row[1], how: found.how)
            }
        }
    }

    /// What an event offers to match on (SPEC §3), strongest first.
    struct Candidate {
        var messageIDs: [String]
        var token: String?
        var providerMessageID: String?
        var recipient: String?
        /// When the event happened: a weak match only considers messages sent before it.
        var occurredAt: Timestamp? = nil
    }

    struct Match {
        var enrollmentID: Int64
        /// Our Message-ID of the message the event is about, when known.
        var messageID: String?
        /// How it was matched; `recipient` is the weak one.
        var how: String
    }

    /// Our Message-ID, then the echoed token, then the provider's message id,
    /// then the latest message to the recipient (weak).
    static func match(_ candidate: Candidate, in db: Database) throws -> Match? {
        for messageID in candidate.messageIDs {
            if let enrollmentID = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT enrollment_id FROM message WHERE message_id = ?"),
                arguments: [messageID])
            {
                return Match(enrollmentID: enrollmentID, messageID: messageID, how: "message_id")
            }
        }
        if let token = candidate.token,
            let enrollmentID = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT id FROM enrollment WHERE token = ?"), arguments: [token])
        {
            // The message is the one the provider names, else the enrollment's latest.
            let messageID = try String.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT message_id FROM message WHERE enrollment_id = ?
                        ORDER BY (provider_message_id IS NOT NULL AND provider_message_id = ?) DESC, step DESC LIMIT 1
                        """), arguments: [enrollmentID, candidate.providerMessageID])
            return Match(enrollmentID: enrollmentID, messageID: messageID, how: "token")
        }
        if let providerMessageID = candidate.providerMessageID,
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT enrollment_id, message_id FROM message WHERE provider_message_id = ? LIMIT 1"),
                arguments: [providerMessageID])
        {
            return Match(enrollmentID: row["enrollment_id"], messageID: row["message_id"], how: "provider_id")
        }
        // The weak match: the latest message to that address sent before the event happened. Not
        // while a message to that address is in flight: the event may be about it, so it waits
        // for its own message instead of landing on an older one.
        if let recipient = candidate.recipient,
            try Bool.fetchOne(
                db.cachedStatement(
                    sql: "SELECT EXISTS (SELECT 1 FROM message WHERE recipient = ? AND state = 'claimed')"),
                arguments: [recipient]) == false,
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT enrollment_id, message_id FROM message
                        WHERE recipient = ? AND state != 'claimed' AND sent_at <= ?
                        ORDER BY sent_at DESC, id DESC LIMIT 1
                        """), arguments: [recipient, candidate.occurredAt?.millisecondsSinceEpoch ?? Int64.max])
        {
            return Match(enrollmentID: row["enrollment_id"], messageID: row["message_id"], how: "recipient")
        }
        return nil
    }

    static func record(
        _ event: ProviderEvent, now: Timestamp, refreshLater pending: inout [Int64: [Event]],
        statements: EventStatements,
        in db: Database
    ) throws -> EventDisposition {
        let candidate = Candidate(
            messageIDs: event.messageIDs, token: event.token, providerMessageID: event.providerMessageID,
            recipient: event.recipient, occurredAt: event.timestamp)
        var match: Match?
        if event.malformed == nil {
            // The common case first, on the C API: our Message-ID names the message.
            for messageID in event.messageIDs where match == nil {
                if let enrollmentID = try statements.enrollment(ofMessage: messageID) {
                    match = Match(enrollmentID: enrollmentID, messageID: messageID, how: "message_id")
                }
            }
            if match == nil { match = try Self.match(candidate, in: db) }
        }
        var detail = event.detail
        if let match, match.how == "recipient" {
            detail = (detail.map { $0 + " " } ?? "") + "(weak match: by recipient address only)"
        }
        let insert = statements.insert
        insert.bind(1, match?.enrollmentID)
        insert.bind(2, event.key)
        insert.bind(3, event.type.rawValue)
        insert.bind(4, event.timestamp.millisecondsSinceEpoch)
        insert.bind(5, now.millisecondsSinceEpoch)
        insert.bind(6, event.source)
        insert.bind(7, match?.messageID)
        insert.bind(8, event.bounceClass?.rawValue)
        insert.bind(9, detail)
        insert.bind(10, event.raw)
        insert.bind(11, match?.how)
        insert.bind(12, event.recipient)
        insert.bind(13, event.malformed)
        guard try insert.run() > 0 else { return .duplicate }
        let rowID = insert.lastInsertedRowID
        if event.malformed != nil { return .malformed }
        guard let match else {
            let hints =
                event.messageIDs.map { "mid:" + $0 } + (event.token.map { ["tok:" + $0] } ?? [])
                + (event.providerMessageID.map { ["pid:" + $0] } ?? [])
            for hint in Set(hints) {
                try db.cachedStatement(sql: "INSERT INTO unmatched_hint (hint, event_id) VALUES (?, ?)")
                    .execute(arguments: [hint, rowID])
            }
            return .unmatched
        }
        let folded = Event(
            key: event.key, type: event.type, at: event.timestamp, messageID: match.messageID,
            bounceClass: event.bounceClass)
        try suppressIfNeeded(
            folded, messageID: match.messageID, enrollmentID: match.enrollmentID, detail: event.detail, now: now,
            in: db)
        // Other events change nothing in the enrollment's row (not even for `export --since`).
        if event.type.affectsStatus { pending[match.enrollmentID, default: []].append(folded) }
        return .applied
    }

    /// Gives a stored unmatched event its enrollment and applies it.
    static func attach(eventID: Int64, to match: Match, now: Timestamp, in db: Database) throws {
        try db.execute(
            sql: "UPDATE event SET enrollment_id = ?, message_id = ?, match = ? WHERE id = ?",
            arguments: [match.enrollmentID, match.messageID, match.how, eventID])
        try db.execute(sql: "DELETE FROM unmatched_hint WHERE event_id = ?", arguments: [eventID])
        try EventFiler(db).fileAttached(eventID: eventID)
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT type, bounce_class, detail, message_id FROM event WHERE id = ?", arguments: [eventID]),
            let type = EventType(rawValue: row["type"])
        else { return }
        let event = Event(
            key: "", type: type, at: now, bounceClass: (row["bounce_class"] as String?).flatMap(BounceClass.init))
        try suppressIfNeeded(
            event, messageID: row["message_id"], enrollmentID: match.enrollmentID, detail: row["detail"], now: now,
            in: db)
        try refresh(enrollmentID: match.enrollmentID, now: now, in: db)
    }

    /// Unmatched events waiting for these messages, applied now that the messages are recorded.
    static func applyWaitingEvents(
        messageID: String, token: String?, providerMessageID: String?, now: Timestamp, in db: Database
    ) throws {
        var hints = ["mid:" + messageID]
        if let token { hints.append("tok:" + token) }
        if let providerMessageID { hints.append("pid:" + providerMessageID) }
        for hint in hints {
            let waiting = try Int64.fetchAll(
                db.cachedStatement(sql: "SELECT event_id FROM unmatched_hint WHERE hint = ?"), arguments: [hint])
            for eventID in waiting {
                guard
                    let match = try match(
                        Candidate(
                            messageIDs: hint.hasPrefix("mid:") ? [messageID] : [],
                            token: hint.hasPrefix("tok:") ? token : nil,
                            providerMessageID: hint.hasPrefix("pid:") ? providerMessageID : nil, recipient: nil),
                        in: db)
                else { continue }
                try attach(eventID: eventID, to: match, now: now, in: db)
            }
        }
    }
}

/// The statements every reported event runs.
final class EventStatements {
    private let messageLookup: RawStatement
    private let messages: MessageEnrollments
    let insert: RawStatement

    init(_ db: Database, messages: MessageEnrollments) throws {
        self.messages = messages
        messageLookup = try RawStatement(db, "SELECT enrollment_id FROM message WHERE message_id = ?")
        insert = try RawStatement(
            db,
            """
            INSERT INTO event (enrollment_id, key, type, occurred_at, recorded_at, source, message_id,
                               bounce_class, detail, raw, match, recipient, malformed)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO NOTHING
            """)
    }

    /// The enrollment our Message-ID belongs to, from memory when it was looked up before.
    func enrollment(ofMessage messageID: String) throws -> Int64? {
        if let known = messages.enrollment(of: messageID) { return known }
        messageLookup.bind(1, messageID)
        guard let found = try messageLookup.integer() else { return nil }
        messages.remember(messageID, found)
        return found
    }
}

/// Which enrollment each recently matched Message-ID belongs to. A message
/// never changes enrollment, so the answer stays true until the message row is
/// deleted (a deferred claim), which forgets it. Providers report several
/// events per message (delivered, opened, clicked), so most lookups end here.
/// Bounded: when full it starts over.
final class MessageEnrollments: @unchecked Sendable {
    static let capacity = 200_000
    private let lock = NSLock()
    private var known: [String: Int64] = [:]

    func enrollment(of messageID: String) -> Int64? { lock.withLock { known[messageID] } }

    func remember(_ messageID: String, _ enrollmentID: Int64) {
        lock.withLock {
            if known.count >= Self.capacity { known.removeAll(keepingCapacity: true) }
            known[messageID] = enrollmentID
        }
    }

    func forget(_ messageID: String) { _ = lock.withLock { known.removeValue(forKey: messageID) } }
}
