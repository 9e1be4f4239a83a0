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
            // Every id an import writes is one it has just read or inserted in the same
            // transaction, so SQLite's own foreign-key lookups (three per row) are left out.
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            let imported = Result {
                try Self.importBatches(
                    options, sequenceID: sequenceID, now: now, nextBatch: nextBatch, report: report, in: db)
            }
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            try imported.get()
        }
    }

    private static func importBatches(
        _ options: ImportOptions, sequenceID: Int64, now: Timestamp, nextBatch: () throws -> [ImportRow]?,
        report: ([(row: ImportRow, outcome: ImportOutcome)]) throws -> Void, in db: Database
    ) throws {
        let importer = try BatchImporter(db: db, sequenceID: sequenceID, options: options, now: now)
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

/// Decides and writes one import row at a time inside the caller's transaction.
///
/// A new enrollment's cached status is written directly: it is the fold of
/// its lone `enrolled` event, computed once for the whole import. The per-row
/// statements go straight through the SQLite C API (``RawStatement``).
///
/// A row repeating an earlier row's address is found by the influencer both
/// rows lead to: the first line each influencer was met on is kept in memory
/// (``FirstLines``). Suppressed addresses never reach an influencer, so their
/// first lines are kept by address.
private final class BatchImporter {
    let db: Database
    let sequenceID: Int64
    let options: ImportOptions
    let now: Timestamp
    let nextSendAt: Timestamp?
    let checkSuppression: Bool
    let encoder = JSONEncoder()
    let decoder = JSONDecoder()
    var firstLines = FirstLines()
    /// Suppressed address → the line of the file's first row for it.
    var suppressedLines: [String: Int] = [:]
    let suppressed: RawStatement
    let insertInfluencer: RawStatement
    let insertEnrollment: RawStatement
    let insertEvent: RawStatement

    init(db: Database, sequenceID: Int64, options: ImportOptions, now: Timestamp) throws {
        self.db = db
        self.sequenceID = sequenceID
        self.options = options
        self.now = now
        let waits = try SQLiteStore.steps(sequenceID: sequenceID, in: db).map(\.wait)
        let state = foldStatus([Event(key: "enrolled", type: .enrolled, at: now)])
        nextSendAt = SeqbridgeCore.nextSendAt(state: state, waits: waits)
        checkSuppression = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM suppression)") ?? true
        encoder.outputFormatting = .sortedKeys
        suppressed = try RawStatement(db, "SELECT 1 FROM suppression WHERE email = ?")
        insertInfluencer = try RawStatement(
            db,
            """
            INSERT INTO influencer (email, name, first_name, last_name, handle, platform, followers, attributes,
                                    created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (email) DO NOTHING
            """)
        insertEnrollment = try RawStatement(
            db,
            """
            INSERT INTO enrollment (influencer_id, sequence_id, token, status, enrolled_at, next_send_at, updated_at)
            VALUES (?, ?, ?, 'scheduled', ?, ?, ?)
            """)
        insertEvent = try RawStatement(
            db,
            """
            INSERT INTO event (enrollment_id, key, type, occurred_at, recorded_at, source, detail)
            VALUES (?, ?, 'enrolled', ?, ?, 'import', ?)
            """)
    }

    func apply(_ row: ImportRow) throws -> ImportOutcome {
        let email = row.fields.email
        if checkSuppression {
            if let first = suppressedLines[email] {
                return ImportOutcome(result: .rejected, reason: "duplicate of line \(first)")
            }
            suppressed.bind(1, email)
            if try suppressed.integer() != nil, let reason = try SQLiteStore.suppression(email: email, in: db) {
                suppressedLines[email] = row.line
                return ImportOutcome(result: .rejected, reason: "on the suppression list (\(reason.rawValue))")
            }
        }
        let fields = row.fields
        let millis = now.millisecondsSinceEpoch
        insertInfluencer.bind(1, email)
        insertInfluencer.bind(2, fields.name)
        insertInfluencer.bind(3, fields.firstName)
        insertInfluencer.bind(4, fields.lastName)
        insertInfluencer.bind(5, fields.handle)
        insertInfluencer.bind(6, fields.platform)
        insertInfluencer.bind(7, fields.followers)
        insertInfluencer.bind(8, row.attributesJSON)
        insertInfluencer.bind(9, millis)
        insertInfluencer.bind(10, millis)
        var outcome = ImportOutcome(result: .enrolled)
        let influencerID: Int64
        if try insertInfluencer.run() > 0 {
            influencerID = insertInfluencer.lastInsertedRowID
            outcome.created = true
            firstLines.add(influencerID, line: row.line)
        } else {
            guard let existing = try SQLiteStore.influencerID(email: email, in: db) else {
                return ImportOutcome(result: .rejected, reason: "the influencer vanished during the import")
            }
            influencerID = existing
            if let first = firstLines.line(of: influencerID) {
                return ImportOutcome(result: .rejected, reason: "duplicate of line \(first)")
            }
            firstLines.add(influencerID, line: row.line)
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
        insertEnrollment.bind(1, influencerID)
        insertEnrollment.bind(2, sequenceID)
        insertEnrollment.bind(3, row.token)
        insertEnrollment.bind(4, millis)
        insertEnrollment.bind(5, nextSendAt?.millisecondsSinceEpoch)
        insertEnrollment.bind(6, millis)
        try insertEnrollment.run()
        insertEvent.bind(1, insertEnrollment.lastInsertedRowID)
        insertEvent.bind(2, "enrolled:" + row.token)
        insertEvent.bind(3, millis)
        insertEvent.bind(4, millis)
        insertEvent.bind(5, "imported from line \(row.line)")
        try insertEvent.run()
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
            merged.attributesJSON, now.millisecondsSinceEpoch,
            influencerID,
        ])
        return true
    }
}

/// Influencer → the line of the file's first row for it, in 12 bytes an entry.
///
/// Influencers the import creates get ever larger ids, so they are appended to
/// two sorted arrays and found by binary search; the rest (influencers that
/// existed before, or an id out of order) go to a dictionary.
struct FirstLines {
    private var ids: [Int64] = []
    private var lines: [Int32] = []
    private var others: [Int64: Int32] = [:]

    mutating func add(_ id: Int64, line: Int) {
        if ids.last.map({ id > $0 }) ?? true {
            ids.append(id)
            lines.append(Int32(clamping: line))
        } else {
            others[id] = Int32(clamping: line)
        }
    }

    func line(of id: Int64) -> Int? {
        if let line = others[id] { return Int(line) }
        var low = 0
        var high = ids.count
        while low < high {
            let middle = (low + high) / 2
            if ids[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low < ids.count && ids[low] == id ? Int(lines[low]) : nil
    }
}
