import Foundation
import GRDB
import SeqbridgeCore
import SeqbridgeStore

extension SQLiteStore {
    public func importRows(
        _ options: ImportOptions, now: Timestamp, nextBatch: @escaping @Sendable () throws -> [ImportRow]?,
        report: @escaping @Sendable (_ rows: [ImportRow], _ outcomes: [ImportOutcome]) throws -> Void
    ) async throws {
        try await writer.writeWithoutTransaction { db in
            let sequenceID = try Self.sequenceID(named: options.sequence, requireConnected: true, in: db)
            // Every id an import writes is one it has just read or inserted in the same
            // transaction, so SQLite's own foreign-key lookups (three per row) are left out.
            try db.with(pragma: "foreign_keys", "OFF", restoring: "ON") {
                try Self.importBatches(
                    options, sequenceID: sequenceID, now: now, nextBatch: nextBatch, report: report, in: db)
            }
        }
    }

    private static func importBatches(
        _ options: ImportOptions, sequenceID: Int64, now: Timestamp, nextBatch: () throws -> [ImportRow]?,
        report: ([ImportRow], [ImportOutcome]) throws -> Void, in db: Database
    ) throws {
        let importer = try BatchImporter(db: db, sequenceID: sequenceID, options: options, now: now)
        if options.dryRun {
            // One transaction over every batch, so later rows see earlier ones; never committed.
            try db.inTransaction {
                while let batch = try nextBatch() {
                    try report(batch, try importer.apply(batch))
                }
                return .rollback
            }
        } else {
            // An import writes `enrolled` events only, which are never filed (``EventFiler``):
            // with what was written before filed first, the mark moves past each batch.
            let filer = try EventFiler(db)
            try db.inTransaction {
                try filer.fileIfDue(minimum: 1)
                return .commit
            }
            while let batch = try nextBatch() {
                var outcomes: [ImportOutcome] = []
                try db.inTransaction {
                    let previousLast = try filer.lastEventID()
                    outcomes = try importer.apply(batch)
                    try filer.passOver(since: previousLast)
                    return .commit
                }
                try report(batch, outcomes)
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
    /// The import's constant values, written into the statements' text.
    let constants: (sequence: String, now: String, nextSendAt: String)

    /// Rows written by one statement: one statement per row would spend as much
    /// time starting statements and opening index cursors as inserting.
    static let rowsPerStatement = 100
    /// The multi-row statements, by kind and number of rows, prepared once.
    private var statements: [String: [Int: RawStatement]] = [:]

    /// The statement `sql(rows)` makes for `rows` rows, kept for the rest of the import.
    private func statement(_ kind: String, rows: Int, _ sql: (Int) -> String) throws -> RawStatement {
        if let statement = statements[kind]?[rows] { return statement }
        let statement = try RawStatement(db, sql(rows))
        statements[kind, default: [:]][rows] = statement
        return statement
    }

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
        constants = (
            String(sequenceID), String(now.millisecondsSinceEpoch),
            nextSendAt.map { String($0.millisecondsSinceEpoch) } ?? "NULL"
        )
    }

    /// Each row's outcome, in the batch's order. Rows are decided in file order,
    /// so the first of several rows for one address is the one that counts.
    func apply(_ batch: [ImportRow]) throws -> [ImportOutcome] {
        var outcomes = [ImportOutcome](repeating: ImportOutcome(result: .enrolled), count: batch.count)
        var start = 0
        while start < batch.count {
            let end = min(start + Self.rowsPerStatement, batch.count)
            try apply(batch, start..<end, into: &outcomes)
            start = end
        }
        return outcomes
    }

    /// One statement inserts the rows' new influencers; rows whose address is
    /// already an influencer's (or is repeated within the rows) are decided
    /// one by one; one statement each then enrols the new ones and records
    /// their `enrolled` events.
    private func apply(_ batch: [ImportRow], _ range: Range<Int>, into outcomes: inout [ImportOutcome]) throws {
        var candidates: [Int] = []
        candidates.reserveCapacity(range.count)
        for index in range {
            if let refusal = try suppression(batch[index]) {
                outcomes[index] = refusal
            } else {
                candidates.append(index)
            }
        }
        guard !candidates.isEmpty else { return }
        var created = try insertInfluencers(batch, candidates)
        var enrolling: [(index: Int, influencerID: Int64)] = []
        enrolling.reserveCapacity(candidates.count)
        for index in candidates {
            if let influencerID = created.removeValue(forKey: batch[index].fields.email) {
                firstLines.add(influencerID, line: batch[index].line)
                outcomes[index] = ImportOutcome(result: .enrolled, created: true)
                enrolling.append((index, influencerID))
            } else {
                outcomes[index] = try applyExisting(batch, index)
            }
        }
        try enrol(batch, enrolling)
    }

    /// A refusal when the address is on the suppression list.
    private func suppression(_ row: ImportRow) throws -> ImportOutcome? {
        guard checkSuppression else { return nil }
        let email = row.fields.email
        if let first = suppressedLines[email] {
            return ImportOutcome(result: .rejected, reason: "duplicate of line \(first)")
        }
        suppressed.bind(1, email)
        if try suppressed.integer() != nil, let reason = try SQLiteStore.suppression(email: email, in: db) {
            suppressedLines[email] = row.line
            return ImportOutcome(result: .rejected, reason: "on the suppression list (\(reason.rawValue))")
        }
        return nil
    }

    /// Inserts an influencer for each row whose address has none yet (the
    /// first row, when rows repeat one); answers address → new id.
    private func insertInfluencers(_ batch: [ImportRow], _ rows: [Int]) throws -> [String: Int64] {
        let now = constants.now
        let insert = try statement("influencer", rows: rows.count) {
            """
            INSERT INTO influencer (email, name, first_name, last_name, handle, platform, followers, attributes,
                                    created_at, updated_at)
            VALUES \(repeatElement("(?, ?, ?, ?, ?, ?, ?, ?, \(now), \(now))", count: $0).joined(separator: ", "))
            ON CONFLICT (email) DO NOTHING
            RETURNING id, email
            """
        }
        var parameter: Int32 = 0
        func next() -> Int32 {
            parameter += 1
            return parameter
        }
        for index in rows {
            insert.bind(next(), batch[index].fields.email)
            insert.bind(next(), batch[index].fields.name)
            insert.bind(next(), batch[index].fields.firstName)
            insert.bind(next(), batch[index].fields.lastName)
            insert.bind(next(), batch[index].fields.handle)
            insert.bind(next(), batch[index].fields.platform)
            insert.bind(next(), batch[index].fields.followers)
            insert.bind(next(), batch[index].attributesJSON)
        }
        var created: [String: Int64] = [:]
        created.reserveCapacity(rows.count)
        while try insert.step() {
            if let id = insert.int64(0), let email = insert.text(1) { created[email] = id }
        }
        return created
    }

    /// Enrols new influencers and records each enrollment's `enrolled` event.
    private func enrol(_ batch: [ImportRow], _ rows: [(index: Int, influencerID: Int64)]) throws {
        guard !rows.isEmpty else { return }
        let (sequence, now, next) = constants
        let enrollments = try statement("enrollment", rows: rows.count) {
            """
            INSERT INTO enrollment (influencer_id, sequence_id, token, status, enrolled_at, next_send_at, updated_at)
            VALUES \(repeatElement("(?, \(sequence), ?, 'scheduled', \(now), \(next), \(now))", count: $0).joined(separator: ", "))
            RETURNING id, token
            """
        }
        var parameter: Int32 = 0
        for (index, influencerID) in rows {
            enrollments.bind(parameter + 1, influencerID)
            enrollments.bind(parameter + 2, batch[index].token)
            parameter += 2
        }
        var ids: [String: Int64] = [:]
        ids.reserveCapacity(rows.count)
        while try enrollments.step() {
            if let id = enrollments.int64(0), let token = enrollments.text(1) { ids[token] = id }
        }
        let events = try statement("event", rows: rows.count) {
            """
            INSERT INTO event (enrollment_id, key, type, occurred_at, recorded_at, source, detail)
            VALUES \(repeatElement("(?, ?, 'enrolled', \(now), \(now), 'import', ?)", count: $0).joined(separator: ", "))
            """
        }
        parameter = 0
        for (index, _) in rows {
            let (line, token) = (batch[index].line, batch[index].token)
            guard let id = ids[token] else {
                throw DatabaseError(message: "the enrollment for line \(line) was not created")
            }
            events.bind(parameter + 1, id)
            events.bind(parameter + 2, "enrolled:" + token)
            events.bind(parameter + 3, "imported from line \(line)")
            parameter += 3
        }
        try events.run()
    }

    /// A row whose address already belongs to an influencer: a repeat of an
    /// earlier row, an influencer already in the sequence, or one to enrol.
    private func applyExisting(_ batch: [ImportRow], _ index: Int) throws -> ImportOutcome {
        let row = batch[index]
        guard let influencerID = try SQLiteStore.influencerID(email: row.fields.email, in: db) else {
            return ImportOutcome(result: .rejected, reason: "the influencer vanished during the import")
        }
        if let first = firstLines.line(of: influencerID) {
            return ImportOutcome(result: .rejected, reason: "duplicate of line \(first)")
        }
        firstLines.add(influencerID, line: row.line)
        var outcome = ImportOutcome(result: .enrolled)
        if options.updateExisting { outcome.updated = try update(influencerID, with: row.fields) }
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
        try enrol(batch, [(index, influencerID)])
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
