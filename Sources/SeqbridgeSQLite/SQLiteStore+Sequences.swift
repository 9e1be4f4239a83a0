import GRDB
import SeqbridgeCore
import SeqbridgeStore

extension SQLiteStore {
    public func applySequence(_ sequence: SequenceDefinition, now: Timestamp) async throws
        -> SequenceApplyResult
    {
        try await writer.write { db in
            let mailboxID = try Self.mailboxID(named: sequence.mailbox, in: db)
            let state = try String.fetchOne(db, sql: "SELECT state FROM mailbox WHERE id = ?", arguments: [mailboxID])
            if state != MailboxState.connected.rawValue { throw StoreError.mailboxDisconnected(sequence.mailbox) }
            let existing = try Row.fetchOne(
                db, sql: "SELECT id, mailbox_id FROM sequence WHERE name = ?", arguments: [sequence.name])
            guard let existing else {
                try db.execute(
                    sql: "INSERT INTO sequence (name, mailbox_id, created_at, updated_at) VALUES (?, ?, ?, ?)",
                    arguments: [sequence.name, mailboxID, now.millisecondsSinceEpoch, now.millisecondsSinceEpoch])
                try Self.insertSteps(sequence.steps, sequenceID: db.lastInsertedRowID, in: db)
                return .created
            }
            let sequenceID: Int64 = existing["id"]
            let current = try Self.steps(sequenceID: sequenceID, in: db)
            if current == sequence.steps, existing["mailbox_id"] == mailboxID { return .unchanged }
            if sequence.steps.count < current.count {
                let stuck =
                    try Int.fetchOne(
                        db,
                        sql: """
                            SELECT COUNT(*) FROM enrollment
                            WHERE sequence_id = ? AND status IN ('scheduled', 'in_progress') AND steps_sent >= ?
                            """, arguments: [sequenceID, sequence.steps.count]) ?? 0
                if stuck > 0 {
                    throw StoreError.stepsRemovedWhileActive(
                        sequence: sequence.name, active: stuck, steps: sequence.steps.count)
                }
            }
            try db.execute(
                sql: "UPDATE sequence SET mailbox_id = ?, updated_at = ? WHERE id = ?",
                arguments: [mailboxID, now.millisecondsSinceEpoch, sequenceID])
            try db.execute(sql: "DELETE FROM step WHERE sequence_id = ?", arguments: [sequenceID])
            try Self.insertSteps(sequence.steps, sequenceID: sequenceID, in: db)
            // New waits or step counts move the next send time of running enrollments.
            let active = try Int64.fetchAll(
                db,
                sql: "SELECT id FROM enrollment WHERE sequence_id = ? AND status IN ('scheduled', 'in_progress')",
                arguments: [sequenceID])
            let refresher = try Refresher(db)
            for enrollmentID in active { _ = try refresher.refresh(enrollmentID: enrollmentID, now: now) }
            return .updated
        }
    }

    static func insertSteps(_ steps: [StepDefinition], sequenceID: Int64, in db: Database) throws {
        for (index, step) in steps.enumerated() {
            try db.execute(
                sql: """
                    INSERT INTO step (sequence_id, position, wait_seconds, subject, body, html) VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [sequenceID, index + 1, step.wait.seconds, step.subject, step.body, step.html])
        }
    }

    static func steps(sequenceID: Int64, in db: Database) throws -> [StepDefinition] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: "SELECT wait_seconds, subject, body, html FROM step WHERE sequence_id = ? ORDER BY position"),
            arguments: [sequenceID]
        ).map { row in
            StepDefinition(
                wait: WaitDuration(seconds: row["wait_seconds"]), subject: row["subject"], body: row["body"],
                html: row["html"])
        }
    }

    public func sequences() async throws -> [SequenceSummary] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT s.id, s.name, m.name AS mailbox,
                      (SELECT COUNT(*) FROM enrollment e WHERE e.sequence_id = s.id) AS enrollments,
                      (SELECT COUNT(*) FROM enrollment e WHERE e.sequence_id = s.id
                         AND e.status IN ('scheduled', 'in_progress')) AS active
                    FROM sequence s JOIN mailbox m ON m.id = s.mailbox_id ORDER BY s.name
                    """
            ).map { row in
                SequenceSummary(
                    name: row["name"], mailbox: row["mailbox"], steps: try Self.steps(sequenceID: row["id"], in: db),
                    enrollments: row["enrollments"], active: row["active"])
            }
        }
    }
}
