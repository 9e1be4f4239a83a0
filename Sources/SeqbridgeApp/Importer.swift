import Foundation
import SeqbridgeCSV
import SeqbridgeCore
import SeqbridgeStore

/// What `import` reports: counts per outcome, in SPEC terms.
public struct ImportSummary: Sendable, Hashable, Codable {
    public var file: String
    public var sequence: String
    public var dry_run: Bool
    /// Data rows read (blank lines are not rows).
    public var read = 0
    /// New influencers created.
    public var created = 0
    /// Existing influencers whose fields changed (`--update-existing`).
    public var updated = 0
    public var enrolled = 0
    public var skipped = 0
    public var rejected = 0
    public var errors_file: String?

    /// One paragraph for stderr.
    public var text: String {
        var lines = [
            "\(file): \(read) row(s) read; \(enrolled) enrolled in '\(sequence)'; \(skipped) skipped; \(rejected) rejected.",
            "Influencers: \(created) created, \(updated) updated.",
        ]
        if read > 0, enrolled == 0, created == 0, updated == 0 {
            lines.append(
                skipped > 0
                    ? "Nothing changed: every usable row was already enrolled." : "Nothing changed: no row was usable.")
        }
        if let errors_file { lines.append("Skipped and rejected rows, with reasons: \(errors_file).") }
        if dry_run { lines.append("Dry run: nothing was written.") }
        return lines.joined(separator: "\n")
    }
}

/// The fields a column can feed.
enum ImportField: Hashable {
    case email, name, firstName, lastName, handle, platform, followers
    case attribute(String)

    /// Header spellings seen in exports from other tools, compared without
    /// case, spaces or punctuation.
    static let aliases: [String: ImportField] = [
        "email": .email, "emailaddress": .email, "mail": .email, "emailid": .email, "emails": .email,
        "name": .name, "fullname": .name, "influencer": .name, "influencername": .name, "contactname": .name,
        "firstname": .firstName, "givenname": .firstName, "first": .firstName,
        "lastname": .lastName, "surname": .lastName, "familyname": .lastName, "last": .lastName,
        "handle": .handle, "username": .handle, "socialhandle": .handle, "instagramhandle": .handle,
        "platform": .platform, "network": .platform, "channel": .platform,
        "followers": .followers, "followercount": .followers, "followerscount": .followers,
        "nooffollowers": .followers,
    ]

    static func key(_ header: String) -> String {
        String(header.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) })
    }

    /// The template name of any other column: lower case, words joined by `_`.
    static func attributeName(_ header: String) -> String {
        var name = ""
        for scalar in header.trimmingCharacters(in: .whitespaces).lowercased().unicodeScalars {
            if CharacterSet.alphanumerics.contains(scalar) {
                name.unicodeScalars.append(scalar)
            } else if !name.hasSuffix("_"), !name.isEmpty {
                name += "_"
            }
        }
        while name.hasSuffix("_") { name.removeLast() }
        return name.isEmpty ? "column" : name
    }

    /// `--map` targets: a known field by its column name, or any attribute name.
    static func parse(_ text: String) -> ImportField {
        switch text.lowercased() {
        case "email": .email
        case "name": .name
        case "first_name": .firstName
        case "last_name": .lastName
        case "handle": .handle
        case "platform": .platform
        case "followers": .followers
        default: .attribute(attributeName(text))
        }
    }
}

/// Bulk enrolment from a CSV file: reads, checks and maps each row, then hands
/// good rows to the store in batches.
public struct Importer: Sendable {
    public var engine: Engine
    public var batchSize = 5_000

    public init(engine: Engine) {
        self.engine = engine
    }

    public struct Request: Sendable {
        public var file: String
        public var options: ImportOptions
        /// `COLUMN=FIELD` pairs.
        public var mappings: [String]
        public var errorsFile: String?
        /// Called now and then with (rows read, bytes read, file size).
        public var progress: (@Sendable (Int, Int, Int) -> Void)?
        /// Called with each row's count as it is read (fault injection in crash tests).
        public var onRow: (@Sendable (Int) -> Void)?

        public init(
            file: String, options: ImportOptions, mappings: [String] = [], errorsFile: String? = nil,
            progress: (@Sendable (Int, Int, Int) -> Void)? = nil
        ) {
            self.file = file
            self.options = options
            self.mappings = mappings
            self.errorsFile = errorsFile
            self.progress = progress
        }
    }

    public func run(_ request: Request, now: Timestamp) async throws -> ImportSummary {
        let reader: CSVReader
        do {
            reader = try CSVReader(path: request.file)
        } catch {
            throw AppError.unusableImport(file: request.file, why: "\(error)")
        }
        let columns = try readHeader(reader, file: request.file, mappings: request.mappings)
        let errors = try request.errorsFile.map { try ReportSink(path: $0) }
        try errors?.write("line,email,reason\r\n")
        let state = ImportState(
            reader: reader, columns: columns, file: request.file, engine: engine, batchSize: batchSize,
            errors: errors, progress: request.progress)
        state.onRow = request.onRow
        state.summary = ImportSummary(
            file: request.file, sequence: request.options.sequence, dry_run: request.options.dryRun)
        defer { state.finishReading() }
        do {
            try await engine.store.importRows(
                request.options, now: now, nextBatch: { try state.nextBatch() },
                report: { try state.record($0, $1) })
            try state.record([], [])
            try errors?.finish()
        } catch {
            errors?.abandon()
            throw error
        }
        var summary = state.summary
        summary.errors_file = request.errorsFile
        return summary
    }

    /// Maps header columns to fields; a file without an address column is unusable.
    func readHeader(_ reader: CSVReader, file: String, mappings: [String]) throws -> [ImportField?] {
        var header: CSVReader.Record?
        do {
            while let record = try reader.next() {
                if !record.isBlank {
                    header = record
                    break
                }
            }
        } catch {
            throw AppError.unusableImport(file: file, why: "its header cannot be read (\(error))")
        }
        guard let header else { throw AppError.unusableImport(file: file, why: "it is empty") }
        var explicit: [String: ImportField] = [:]
        for mapping in mappings {
            guard let equals = mapping.lastIndex(of: "="), equals != mapping.startIndex else {
                throw AppError.badField(field: "--map", value: mapping, why: "write it as COLUMN=FIELD")
            }
            let column = mapping[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            guard header.fields.contains(where: { $0.trimmingCharacters(in: .whitespaces).lowercased() == column })
            else {
                throw AppError.badField(
                    field: "--map", value: mapping,
                    why:
                        "the file has no column '\(mapping[..<equals])' (its columns: \(header.fields.joined(separator: ", ")))"
                )
            }
            explicit[column] = ImportField.parse(String(mapping[mapping.index(after: equals)...]))
        }
        var seen = Set<ImportField>()
        let columns = header.fields.map { raw -> ImportField? in
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            let field =
                explicit[trimmed.lowercased()] ?? ImportField.aliases[ImportField.key(trimmed)]
                ?? (trimmed.isEmpty ? nil : .attribute(ImportField.attributeName(trimmed)))
            // The first column for a field wins; a second "Email" is kept as an attribute.
            guard let field else { return nil }
            if seen.insert(field).inserted { return field }
            return .attribute(ImportField.attributeName(trimmed))
        }
        guard columns.contains(.email) else {
            throw AppError.unusableImport(
                file: file,
                why:
                    "it has no email column (looked for email, e-mail, email_address, Email Address; header: \(header.fields.joined(separator: ", "))); name it with --map COLUMN=email"
            )
        }
        return columns
    }
}

/// The mutable side of one import, shared by the store's callbacks.
final class ImportState: @unchecked Sendable {
    let reader: CSVReader
    let columns: [ImportField?]
    let file: String
    let engine: Engine
    let batchSize: Int
    let errors: ReportSink?
    let progress: (@Sendable (Int, Int, Int) -> Void)?
    let fileSize: Int
    var summary = ImportSummary(file: "", sequence: "", dry_run: false)
    /// Rows refused before reaching the store, reported with their batch in line order.
    var pending: [(line: Int, email: String, reason: String)] = []
    var lastProgress = DispatchTime.now().uptimeNanoseconds
    var onRow: (@Sendable (Int) -> Void)?
    private var bytesRead = 0

    init(
        reader: CSVReader, columns: [ImportField?], file: String, engine: Engine, batchSize: Int, errors: ReportSink?,
        progress: (@Sendable (Int, Int, Int) -> Void)?
    ) {
        self.reader = reader
        self.columns = columns
        self.file = file
        self.engine = engine
        self.batchSize = batchSize
        self.errors = errors
        self.progress = progress
        fileSize = ((try? FileManager.default.attributesOfItem(atPath: file)[.size]) as? Int) ?? 0
    }

    /// A batch read and checked ahead of the database.
    struct Produced {
        var rows: [ImportRow] = []
        var rejections: [(line: Int, email: String, reason: String)] = []
        var read = 0
        /// How far into the file the reader was, for progress.
        var bytesRead = 0
    }

    private var producedRows = 0
    // The reading thread keeps this state alive until it stops, even if the import ends first.
    private lazy var pipe = BatchPipe<Produced>(capacity: 2) { [self] in try self.produce() }

    /// The store's pull: the next batch the reading thread has ready.
    func nextBatch() throws -> [ImportRow]? {
        guard let produced = try pipe.take() else { return nil }
        summary.read += produced.read
        pending = produced.rejections
        bytesRead = produced.bytesRead
        return produced.rows
    }

    /// Stops the reading thread (after the import, or when it failed).
    func finishReading() { pipe.cancel() }

    /// Reads and checks the next batch on the reading thread: parsing and
    /// mapping run on one core while the database writes on the other.
    func produce() throws -> Produced? {
        var batch = Produced()
        batch.rows.reserveCapacity(batchSize)
        while batch.rows.count < batchSize {
            let record: CSVReader.Record
            do {
                guard let next = try reader.next() else { break }
                record = next
            } catch {
                if case .badRecord(let line, let why) = error {
                    batch.read += 1
                    batch.rejections.append((line, "", why))
                    continue
                }
                throw AppError.unusableImport(file: file, why: "\(error)")
            }
            if record.isBlank { continue }
            batch.read += 1
            producedRows += 1
            onRow?(producedRows)
            switch map(record) {
            case .success(let fields):
                batch.rows.append(ImportRow(line: record.line, fields: fields, token: engine.ids.enrollmentToken()))
            case .failure(let rejection):
                batch.rejections.append((record.line, rejection.email, rejection.reason))
            }
        }
        if batch.rows.isEmpty && batch.rejections.isEmpty { return nil }
        batch.bytesRead = reader.bytesRead
        return batch
    }

    struct Rejection: Error {
        var email: String
        var reason: String
    }

    func map(_ record: CSVReader.Record) -> Result<InfluencerFields, Rejection> {
        let values = record.fields
        let rawEmail = columns.firstIndex(of: .email).flatMap { $0 < values.count ? values[$0] : nil } ?? ""
        if values.count < columns.count {
            return .failure(
                Rejection(email: rawEmail, reason: "it has \(values.count) field(s), the header has \(columns.count)"))
        }
        if values.count > columns.count, values[columns.count...].contains(where: { !$0.isEmpty }) {
            return .failure(
                Rejection(email: rawEmail, reason: "it has \(values.count) field(s), the header has \(columns.count)"))
        }
        let address: EmailAddress
        do {
            address = try EmailAddress(rawEmail)
        } catch {
            switch error {
            case .empty: return .failure(Rejection(email: "", reason: "it has no email address"))
            case .invalid(_, let why):
                return .failure(Rejection(email: rawEmail, reason: "the address is not usable: \(why)"))
            }
        }
        var fields = InfluencerFields(email: address.value)
        for (index, column) in columns.enumerated() {
            guard let column else { continue }
            let value = trimmedSpaces(values[index])
            guard !value.isEmpty else { continue }
            switch column {
            case .email: break
            case .name: fields.name = value
            case .firstName: fields.firstName = value
            case .lastName: fields.lastName = value
            case .handle: fields.handle = value
            case .platform: fields.platform = value
            case .followers:
                let digits = value.filter { $0 != "," && $0 != "_" && $0 != " " && $0 != "." }
                guard let count = Int64(digits), count >= 0 else {
                    return .failure(Rejection(email: rawEmail, reason: "followers '\(value)' is not a whole number"))
                }
                fields.followers = count
            case .attribute(let name): fields.attributes[name] = value
            }
        }
        return .success(fields)
    }

    /// Counts a committed batch and writes its skipped and rejected rows, in line order.
    func record(_ rows: [ImportRow], _ outcomes: [ImportOutcome]) throws {
        var lines = pending.map { (line: $0.line, email: $0.email, reason: $0.reason) }
        summary.rejected += pending.count
        pending.removeAll()
        for (row, outcome) in zip(rows, outcomes) {
            if outcome.created { summary.created += 1 }
            if outcome.updated { summary.updated += 1 }
            switch outcome.result {
            case .enrolled: summary.enrolled += 1
            case .skipped:
                summary.skipped += 1
                lines.append((row.line, row.fields.email, "skipped: " + (outcome.reason ?? "")))
            case .rejected:
                summary.rejected += 1
                lines.append((row.line, row.fields.email, outcome.reason ?? ""))
            }
        }
        if let errors {
            for entry in lines.sorted(by: { $0.line < $1.line }) {
                try errors.write(
                    "\(entry.line),\(Report.csvCell(entry.email)),\(Report.csvCell(entry.reason))\r\n")
            }
        }
        let now = DispatchTime.now().uptimeNanoseconds
        if let progress, now - lastProgress > 250_000_000 {
            lastProgress = now
            progress(summary.read, bytesRead, fileSize)
        }
    }
}

/// The value without leading and trailing spaces and tabs; quick when there are none.
func trimmedSpaces(_ value: String) -> String {
    let utf8 = value.utf8
    guard let first = utf8.first, let last = utf8.last else { return value }
    if first != 32, first != 9, last != 32, last != 9 { return value }
    var start = utf8.startIndex
    var end = utf8.endIndex
    while start < end, utf8[start] == 32 || utf8[start] == 9 { start = utf8.index(after: start) }
    while end > start, utf8[utf8.index(before: end)] == 32 || utf8[utf8.index(before: end)] == 9 {
        end = utf8.index(before: end)
    }
    return String(value[start..<end])
}

/// A bounded hand-over from one producing thread to one consumer: the
/// producer runs `produce` until it returns nil or throws, staying at most
/// `capacity` items ahead.
final class BatchPipe<Item>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Result<Item?, any Error>] = []
    private var cancelled = false
    private var started = false
    private let capacity: Int
    private let produce: () throws -> Item?

    init(capacity: Int, produce: @escaping () throws -> Item?) {
        self.capacity = capacity
        self.produce = produce
    }

    private func start() {
        started = true
        let thread = Thread { [self] in
            while true {
                let result = Result { try produce() }
                condition.lock()
                while items.count >= capacity && !cancelled { condition.wait() }
                if cancelled {
                    condition.unlock()
                    return
                }
                items.append(result)
                condition.broadcast()
                condition.unlock()
                if case .success(.some) = result { continue }
                return
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// The next item, waiting for the producer; nil once it is done.
    func take() throws -> Item? {
        condition.lock()
        defer { condition.unlock() }
        if !started { start() }
        while items.isEmpty { condition.wait() }
        let result = items.removeFirst()
        condition.broadcast()
        if case .success(nil) = result { items.insert(result, at: 0) }
        return try result.get()
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
