import Foundation
import GRDB
import SeqbridgeCore
import SeqbridgeStore

extension SQLiteStore {
    public func enroll(
        _ influencer: InfluencerFields, sequence: String, token: String, force: Bool, now: Timestamp
    ) async throws {
        try await writer.write { db in
            let sequenceID = try Self.sequenceID(named: sequence, requireConnected: true, in: db)
            let influencerID = try Self.upsertInfluencer(influencer, now: now, in: db)
            try Self.enroll(
                influencerID: influencerID, email: influencer.email, sequenceID: sequenceID, sequence: sequence,
                token: token, force: force, now: now, in: db)
        }
    }

    public func enrollBatch(
        _ influencers: [(fields: InfluencerFields, token: String)], sequence: String, force: Bool, now: Timestamp
    ) async throws -> [StoreError?] {
        try await writer.write { db in
            let sequenceID = try Self.sequenceID(named: sequence, requireConnected: true, in: db)
            return try influencers.map { influencer, token in
                do {
                    let influencerID = try Self.upsertInfluencer(influencer, now: now, in: db)
                    try Self.enroll(
                        influencerID: influencerID, email: influencer.email, sequenceID: sequenceID,
                        sequence: sequence, token: token, force: force, now: now, in: db)
                    return nil
                } catch let error as StoreError {
                    return error
                }
            }
        }
    }

    public func unenroll(email: String, sequence: String, now: Timestamp) async throws {
        try await writer.write { db in
            let sequenceID = try Self.sequenceID(named: sequence, requireConnected: false, in: db)
            guard let open = try Self.openEnrollment(email: email, sequenceID: sequenceID, in: db) else {
                throw StoreError.notEnrolled(email: email, sequence: sequence)
            }
            try Self.unenroll(enrollmentID: open.id, now: now, in: db)
        }
    }

    public func reenroll(email: String, sequence: String, token: String, force: Bool, now: Timestamp) async throws {
        try await writer.write { db in
            let sequenceID = try Self.sequenceID(named: sequence, requireConnected: true, in: db)
            guard let influencerID = try Self.influencerID(email: email, in: db) else {
                throw StoreError.unknownInfluencer(email)
            }
            if let open = try Self.openEnrollment(email: email, sequenceID: sequenceID, in: db) {
                guard open.status == .error else {
                    throw StoreError.alreadyEnrolled(email: email, sequence: sequence, status: open.status.label)
                }
                try Self.unenroll(enrollmentID: open.id, now: now, in: db)
            }
            try Self.enroll(
                influencerID: influencerID, email: email, sequenceID: sequenceID, sequence: sequence, token: token,
                force: force, now: now, in: db)
        }
    }

    public func reenrollAll(
        sequence: String, status: Status, now: Timestamp, makeToken: @Sendable () -> String
    ) async throws -> BulkReenrollResult {
        try await writer.write { db in
            let sequenceID = try Self.sequenceID(named: sequence, requireConnected: true, in: db)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT e.id, e.influencer_id, i.email FROM enrollment e JOIN influencer i ON i.id = e.influencer_id
                    WHERE e.sequence_id = ? AND e.status = ? ORDER BY e.id
                    """, arguments: [sequenceID, status.rawValue])
            var result = BulkReenrollResult(reenrolled: 0, skipped: [])
            for row in rows {
                let email: String = row["email"]
                if let reason = try Self.suppression(email: email, in: db) {
                    result.skipped.append((email, "on the suppression list (\(reason.rawValue))"))
                    continue
                }
                try Self.unenroll(enrollmentID: row["id"], now: now, in: db)
                try Self.enroll(
                    influencerID: row["influencer_id"], email: email, sequenceID: sequenceID, sequence: sequence,
                    token: makeToken(), force: false, now: now, in: db)
                result.reenrolled += 1
            }
            return result
        }
    }

    public func changeEmail(from old: String, to new: String, now: Timestamp) async throws {
        try await writer.write { db in
            guard let influencerID = try Self.influencerID(email: old, in: db) else {
                throw StoreError.unknownInfluencer(old)
            }
            if old == new { return }
            if try Self.influencerID(email: new, in: db) != nil { throw StoreError.emailTaken(new) }
            if let reason = try Self.suppression(email: new, in: db) {
                throw StoreError.suppressed(email: new, reason: reason.rawValue)
            }
            try db.execute(
                sql: "UPDATE influencer SET email = ?, updated_at = ? WHERE id = ?",
                arguments: [new, now.millisecondsSinceEpoch, influencerID])
            let open = try Int64.fetchAll(
                db,
                sql: """
                    SELECT id FROM enrollment WHERE influencer_id = ? AND status IN ('scheduled', 'in_progress', 'error')
                    """, arguments: [influencerID])
            let refresher = try Refresher(db)
            for enrollmentID in open {
                try Self.append(
                    NewEvent(
                        key: "email_changed:\(enrollmentID):\(now.millisecondsSinceEpoch):\(new)", type: .emailChanged,
                        at: now, source: "operator", detail: "address changed from \(old) to \(new)"),
                    to: enrollmentID, recordedAt: now, in: db, refresher: refresher)
            }
        }
    }

    // MARK: Suppression list

    public func suppress(email: String, reason: SuppressionReason, detail: String?, now: Timestamp) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO suppression (email, reason, detail, created_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (email) DO NOTHING
                    """, arguments: [email, reason.rawValue, detail, now.millisecondsSinceEpoch])
        }
    }

    public func unsuppress(email: String) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM suppression WHERE email = ?", arguments: [email])
            return db.changesCount > 0
        }
    }

    public func suppressions() async throws -> [SuppressionEntry] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM suppression ORDER BY email").map { row in
                SuppressionEntry(
                    email: row["email"], reason: SuppressionReason(rawValue: row["reason"]) ?? .manual,
                    detail: row["detail"], createdAt: Timestamp(millisecondsSinceEpoch: row["created_at"]))
            }
        }
    }

    // MARK: Shared steps

    static func suppression(email: String, in db: Database) throws -> SuppressionReason? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT reason FROM suppression WHERE email = ?"), arguments: [email]
        ).map { SuppressionReason(rawValue: $0) ?? .manual }
    }

    static func sequenceID(named name: String, requireConnected: Bool, in db: Database) throws -> Int64 {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT s.id, m.name AS mailbox, m.state FROM sequence s JOIN mailbox m ON m.id = s.mailbox_id
                        WHERE s.name = ?
                        """), arguments: [name])
        else { throw StoreError.unknownSequence(name) }
        if requireConnected, row["state"] as String != MailboxState.connected.rawValue {
            throw StoreError.mailboxDisconnected(row["mailbox"])
        }
        return row["id"]
    }

    static func influencerID(email: String, in db: Database) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM influencer WHERE email = ?"), arguments: [email])
    }

    /// Inserts a new influencer, or fills the fields an existing one lacks.
    static func upsertInfluencer(_ fields: InfluencerFields, now: Timestamp, in db: Database) throws -> Int64 {
        let attributes = String(decoding: try JSONEncoder().encode(fields.attributes), as: UTF8.self)
        try db.cachedStatement(
            sql: """
                INSERT INTO influencer (email, name, first_name, last_name, handle, platform, followers, attributes,
                                        created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (email) DO UPDATE SET
                  name = coalesce(name, excluded.name),
                  first_name = coalesce(first_name, excluded.first_name),
                  last_name = coalesce(last_name, excluded.last_name),
                  handle = coalesce(handle, excluded.handle),
                  platform = coalesce(platform, excluded.platform),
                  followers = coalesce(followers, excluded.followers),
                  attributes = json_patch(excluded.attributes, attributes)
                """
        ).execute(arguments: [
            fields.email, fields.name, fields.firstName, fields.lastName, fields.handle, fields.platform,
            fields.followers, attributes, now.millisecondsSinceEpoch, now.millisecondsSinceEpoch,
        ])
        guard let id = try influencerID(email: fields.email, in: db) else {
            throw StoreError.unknownInfluencer(fields.email)
        }
        return id
    }

    static func openEnrollment(email: String, sequenceID: Int64, in db: Database) throws -> (
        id: Int64, status: Status
    )? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT e.id, e.status FROM enrollment e JOIN influencer i ON i.id = e.influencer_id
                        WHERE i.email = ? AND e.sequence_id = ? AND e.status IN ('scheduled', 'in_progress', 'error')
                        ORDER BY CASE e.status WHEN 'error' THEN 1 ELSE 0 END, e.id DESC
                        LIMIT 1
                        """), arguments: [email, sequenceID])
        else { return nil }
        return (row["id"], Status(rawValue: row["status"]) ?? .error)
    }

    static func enroll(
        influencerID: Int64, email: String, sequenceID: Int64, sequence: String, token: String, force: Bool,
        now: Timestamp, in db: Database
    ) throws {
        if !force, let reason = try suppression(email: email, in: db) {
            throw StoreError.suppressed(email: email, reason: reason.rawValue)
        }
        if let open = try openEnrollment(email: email, sequenceID: sequenceID, in: db) {
            if open.status == .error { throw StoreError.errorEnrollmentExists(email: email, sequence: sequence) }
            throw StoreError.alreadyEnrolled(email: email, sequence: sequence, status: open.status.label)
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO enrollment (influencer_id, sequence_id, token, status, enrolled_at, updated_at)
                VALUES (?, ?, ?, 'scheduled', ?, ?)
                """
        ).execute(arguments: [influencerID, sequenceID, token, now.millisecondsSinceEpoch, now.millisecondsSinceEpoch])
        try append(
            NewEvent(key: "enrolled:\(token)", type: .enrolled, at: now, source: "operator"),
            to: db.lastInsertedRowID, recordedAt: now, in: db)
    }

    static func unenroll(enrollmentID: Int64, now: Timestamp, in db: Database) throws {
        try append(
            NewEvent(
                key: "unenrolled:\(enrollmentID)", type: .unenrolled, at: now, source: "operator",
                detail: "unenrolled by the operator"),
            to: enrollmentID, recordedAt: now, in: db)
    }
}
