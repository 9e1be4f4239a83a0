import Foundation
import GRDB
import SeqbridgeCore
import SeqbridgeStore

extension SQLiteStore {
    public func importRows(
        _ options: ImportOptions, now: Timestamp, nextBatch: @escaping @Sendable () throws -> [ImportRow]?,
        report: @escaping @Sendable ([(row: ImportRow, outcome: ImportOutcome)]) throws -> Void
    ) async throws {
        try await writer.writeWithoutTransaction { db in
            let sequenceID = try Self.sequenceID(named: options.sequence, requireConnected: true, in: db)
            let importer = try BatchImporter(db: db, sequenceID: sequenceID, options: options, now: now)
            defer { try? db.execute(sql: "DROP TABLE IF EXISTS temp.import_seen") }
            if options.dryRun {
                // One transaction over every batch, so later rows see earlier ones; never committed.
                try db.inTransaction {
                    while let batch = try nextBatch() {
                        try report(try batch.map { ($0, try importer.apply($0)) })
                    }
                    return .rollback
                }
            } else {
                while let batch = try nextBatch() {
                    var outcomes: [(row: ImportRow, outcome: ImportOutcome)] = []
                    try db.inTransaction {
                        outcomes = try batch.map { ($0, try importer.apply($0)) }
                        return .commit
                    }
                    try report(outcomes)
                }
            }
        }
    }
}

/// Decides and writes one import row at a time inside the caller's transaction.
///
/// A new enrollment's cached status is written directly: it is the fold of
/// its lone `enrolled` event, computed once for the whole import.
private struct BatchImporter {
    let db: Database
    let sequenceID: Int64
    let options: ImportOptions
    let now: Timestamp
    let nextSendAt: Timestamp?
    let encoder = JSONEncoder()
    let decoder = JSONDecoder()

    init(db: Database, sequenceID: Int64, options: ImportOptions, now: Timestamp) throws {
        self.db = db
        self.sequenceID = sequenceID
        self.options = options
        self.now = now
        try db.execute(
            sql: "CREATE TEMP TABLE IF NOT EXISTS import_seen (email TEXT PRIMARY KEY, line INTEGER NOT NULL)")
        try db.execute(sql: "DELETE FROM temp.import_seen")
        let waits = try SQLiteStore.steps(sequenceID: sequenceID, in: db).map(\.wait)
        let state = foldStatus([Event(key: "enrolled", type: .enrolled, at: now)])
        nextSendAt = SeqbridgeCore.nextSendAt(state: state, waits: waits)
        encoder.outputFormatting = .sortedKeys
    }

    func apply(_ row: ImportRow) throws -> ImportOutcome {
        let email = row.fields.email
        try db.cachedStatement(sql: "INSERT INTO temp.import_seen (email, line) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .execute(arguments: [email, row.line])
        if db.changesCount == 0 {
            let first =
                try Int.fetchOne(
                    db.cachedStatement(sql: "SELECT line FROM temp.import_seen WHERE email = ?"), arguments: [email])
                ?? 0
            return ImportOutcome(result: .rejected, reason: "duplicate of line \(first)")
        }
        if let reason = try SQLiteStore.suppression(email: email, in: db) {
            return ImportOutcome(result: .rejected, reason: "on the suppression list (\(reason.rawValue))")
        }
        let attributes = String(decoding: try encoder.encode(row.fields.attributes), as: UTF8.self)
        let fields = row.fields
        try db.cachedStatement(
            sql: """
                INSERT INTO influencer (email, name, first_name, last_name, handle, platform, followers, attributes,
                                        created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (email) DO NOTHING
                """
        ).execute(arguments: [
            email, fields.name, fields.firstName, fields.lastName, fields.handle, fields.platform, fields.followers,
            attributes, now.millisecondsSinceEpoch, now.millisecondsSinceEpoch,
        ])
        var outcome = ImportOutcome(result: .enrolled)
        let influencerID: Int64
        if db.changesCount > 0 {
            influencerID = db.lastInsertedRowID
            outcome.created = true
        } else {
            guard let existing = try SQLiteStore.influencerID(email: email, in: db) else {
                return ImportOutcome(result: .rejected, reason: "the influencer vanished during the import")
            }
            influencerID = existing
            if options.updateExisting { outcome.updated = try update(influencerID, with: fields) }
            if let previous = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT status, reason FROM enrollment WHERE influencer_id = ? AND sequence_id = ?
                        ORDER BY CASE WHEN status IN ('scheduled', 'in_progress', 'error') THEN 0 ELSE 1 END, id DESC
                        LIMIT 1
                        """), arguments: [influencerID, sequenceID])
            {
                let status = Status(rawValue: previous["status"]) ?? .error
                let reason = (previous["reason"] as String?).map { ", \($0)" } ?? ""
                outcome.result = .skipped
                outcome.reason =
                    status == .finished
                    ? "already went through this sequence (\(status.label)\(reason)); use reenroll to send it again"
                    : "already enrolled (\(status.label)\(reason))"
                return outcome
            }
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO enrollment (influencer_id, sequence_id, token, status, enrolled_at, next_send_at,
                                        updated_at)
                VALUES (?, ?, ?, 'scheduled', ?, ?, ?)
                """
        ).execute(arguments: [
            influencerID, sequenceID, row.token, now.millisecondsSinceEpoch, nextSendAt?.millisecondsSinceEpoch,
            now.millisecondsSinceEpoch,
        ])
        try db.cachedStatement(
            sql: """
                INSERT INTO event (enrollment_id, key, type, occurred_at, recorded_at, source, detail)
                VALUES (?, ?, 'enrolled', ?, ?, 'import', ?)
                """
        ).execute(arguments: [
            db.lastInsertedRowID, "enrolled:\(row.token)", now.millisecondsSinceEpoch, now.millisecondsSinceEpoch,
            "imported from line \(row.line)",
        ])
        return outcome
    }

    /// Overwrites fields with the file's non-empty values; true when anything changed.
    func update(_ influencerID: Int64, with fields: InfluencerFields) throws -> Bool {
        guard
            let current = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM influencer WHERE id = ?"), arguments: [influencerID])
        else { return false }
        var merged = try SQLiteStore.influencer(from: current, decoder: decoder)
        let before = merged
        merged.name = fields.name ?? merged.name
        merged.firstName = fields.firstName ?? merged.firstName
        merged.lastName = fields.lastName ?? merged.lastName
        merged.handle = fields.handle ?? merged.handle
        merged.platform = fields.platform ?? merged.platform
        merged.followers = fields.followers ?? merged.followers
        merged.attributes.merge(fields.attributes) { _, new in new }
        guard merged != before else { return false }
        try db.cachedStatement(
            sql: """
                UPDATE influencer SET name = ?, first_name = ?, last_name = ?, handle = ?, platform = ?, followers = ?,
                  attributes = ?, updated_at = ?
                WHERE id = ?
                """
        ).execute(arguments: [
            merged.name, merged.firstName, merged.lastName, merged.handle, merged.platform, merged.followers,
            String(decoding: try encoder.encode(merged.attributes), as: UTF8.self), now.millisecondsSinceEpoch,
            influencerID,
        ])
        return true
    }
}
