import GRDB
import SeqbridgeCore
import SeqbridgeStore

extension SQLiteStore {
    public func addMailbox(_ mailbox: MailboxDefinition, now: Timestamp) async throws {
        try await writer.write { db in
            let exists = try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM mailbox WHERE name = ?)", arguments: [mailbox.name])
            if exists == true { throw StoreError.mailboxExists(mailbox.name) }
            try db.execute(
                sql: """
                    INSERT INTO mailbox (
                      name, from_name, from_address, transport, failure_grace_seconds, unsubscribe_url,
                      unsubscribe_mailto, daily_cap, min_spacing_seconds, send_window, time_zone, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    mailbox.name, mailbox.fromName, mailbox.fromAddress.value, mailbox.transport,
                    mailbox.failureGraceSeconds, mailbox.unsubscribeURL, mailbox.unsubscribeMailto, mailbox.dailyCap,
                    mailbox.minSpacingSeconds, mailbox.sendWindow, mailbox.timeZone, now.millisecondsSinceEpoch,
                ])
        }
    }

    public func mailboxes() async throws -> [MailboxRecord] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM mailbox ORDER BY name").map { try Self.mailbox(from: $0) }
        }
    }

    static func mailbox(from row: Row, prefix: String = "") throws -> MailboxRecord {
        MailboxRecord(
            id: row[prefix + "id"],
            definition: MailboxDefinition(
                name: row[prefix + "name"], fromName: row[prefix + "from_name"],
                fromAddress: try EmailAddress(row[prefix + "from_address"] as String),
                transport: row[prefix + "transport"],
                failureGraceSeconds: row[prefix + "failure_grace_seconds"] ?? 3600,
                unsubscribeURL: row[prefix + "unsubscribe_url"], unsubscribeMailto: row[prefix + "unsubscribe_mailto"],
                dailyCap: row[prefix + "daily_cap"], minSpacingSeconds: row[prefix + "min_spacing_seconds"],
                sendWindow: row[prefix + "send_window"], timeZone: row[prefix + "time_zone"]),
            state: MailboxState(rawValue: row[prefix + "state"]) ?? .disconnected,
            stateDetail: row[prefix + "state_detail"],
            stateChangedAt: row.timestamp(prefix + "state_changed_at"),
            failingSince: row.timestamp(prefix + "failing_since"),
            failingDetail: row[prefix + "failing_detail"])
    }

    static func mailboxID(named name: String, in db: Database) throws -> Int64 {
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM mailbox WHERE name = ?", arguments: [name])
        else { throw StoreError.unknownMailbox(name) }
        return id
    }

    public func disconnectMailbox(named name: String, detail: String, now: Timestamp) async throws -> Int {
        try await writer.write { db in
            let mailboxID = try Self.mailboxID(named: name, in: db)
            try db.execute(
                sql: """
                    UPDATE mailbox SET state = 'disconnected', state_detail = ?, state_changed_at = ? WHERE id = ?
                    """, arguments: [detail, now.millisecondsSinceEpoch, mailboxID])
            let affected = try Int64.fetchAll(
                db,
                sql: """
                    SELECT e.id FROM enrollment e JOIN sequence s ON s.id = e.sequence_id
                    WHERE s.mailbox_id = ? AND e.status IN ('scheduled', 'in_progress')
                    """, arguments: [mailboxID])
            let refresher = try Refresher(db)
            for enrollmentID in affected {
                try Self.append(
                    NewEvent(
                        key: "disconnected:\(enrollmentID):\(now.millisecondsSinceEpoch)",
                        type: .mailboxDisconnected, at: now, source: "seqbridge", detail: detail),
                    to: enrollmentID, recordedAt: now, in: db, refresher: refresher)
            }
            return affected.count
        }
    }

    public func reconnectMailbox(named name: String, now: Timestamp) async throws {
        try await writer.write { db in
            let mailboxID = try Self.mailboxID(named: name, in: db)
            try db.execute(
                sql: """
                    UPDATE mailbox SET state = 'connected', state_detail = NULL, state_changed_at = ?,
                      failing_since = NULL, failing_detail = NULL
                    WHERE id = ?
                    """, arguments: [now.millisecondsSinceEpoch, mailboxID])
        }
    }

    public func noteMailboxFailure(named name: String, detail: String, now: Timestamp) async throws -> Timestamp {
        try await writer.write { db in
            let mailboxID = try Self.mailboxID(named: name, in: db)
            try db.execute(
                sql: """
                    UPDATE mailbox SET failing_since = COALESCE(failing_since, ?), failing_detail = ? WHERE id = ?
                    """, arguments: [now.millisecondsSinceEpoch, detail, mailboxID])
            let since = try Int64.fetchOne(
                db, sql: "SELECT failing_since FROM mailbox WHERE id = ?", arguments: [mailboxID])
            return Timestamp(millisecondsSinceEpoch: since ?? now.millisecondsSinceEpoch)
        }
    }

    public func mailboxSendStats(mailboxID: Int64, since: Timestamp) async throws -> MailboxSendStats {
        try await writer.read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT (SELECT COUNT(*) FROM message WHERE mailbox_id = ? AND claimed_at >= ?) AS sent,
                           (SELECT MAX(claimed_at) FROM message WHERE mailbox_id = ?) AS last
                    """, arguments: [mailboxID, since.millisecondsSinceEpoch, mailboxID])
            return MailboxSendStats(
                sentSince: row?["sent"] ?? 0,
                lastSentAt: (row?["last"] as Int64?).map { Timestamp(millisecondsSinceEpoch: $0) })
        }
    }

    public func postponeSteps(_ items: [(enrollmentID: Int64, until: Timestamp)], reason: String) async throws {
        guard !items.isEmpty else { return }
        try await writer.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE enrollment SET retry_after = ?, wait_reason = ?,
                      next_send_at = MAX(COALESCE(next_send_at, ?), ?)
                    WHERE id = ? AND next_send_at IS NOT NULL
                    """)
            for item in items {
                let until = item.until.millisecondsSinceEpoch
                try statement.execute(arguments: [until, reason, until, until, item.enrollmentID])
            }
        }
    }

    public func clearMailboxFailure(named name: String) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE mailbox SET failing_since = NULL, failing_detail = NULL
                    WHERE name = ? AND failing_since IS NOT NULL
                    """, arguments: [name])
        }
    }
}
