import GRDB
import GRDBSQLite

/// A prepared statement driven through the SQLite C API, for the paths where
/// per-row overhead decides the speed (bulk import, reported events, status
/// refresh). It is the connection's cached GRDB statement, so it is prepared
/// once per connection, not once per transaction, and GRDB finalizes it.
final class RawStatement {
    private let connection: OpaquePointer
    private let owner: Statement
    private let statement: OpaquePointer
    private let sql: String
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ db: Database, _ sql: String) throws {
        guard let connection = db.sqliteConnection else { throw DatabaseError(message: "the database is closed") }
        owner = try db.cachedStatement(sql: sql)
        sqlite3_reset(owner.sqliteStatement)
        sqlite3_clear_bindings(owner.sqliteStatement)
        self.connection = connection
        self.statement = owner.sqliteStatement
        self.sql = sql
    }

    func bind(_ index: Int32, _ value: String?) {
        guard let value else {
            sqlite3_bind_null(statement, index)
            return
        }
        var copy = value
        copy.withUTF8 { bytes in
            _ = sqlite3_bind_text(
                statement, index, UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self),
                Int32(bytes.count), Self.transient)
        }
    }

    func bind(_ index: Int32, _ value: Int64?) {
        guard let value else {
            sqlite3_bind_null(statement, index)
            return
        }
        sqlite3_bind_int64(statement, index, value)
    }

    /// Runs a statement that returns no row; answers how many rows it changed.
    @discardableResult
    func run() throws -> Int {
        defer { sqlite3_reset(statement) }
        let code = sqlite3_step(statement)
        guard code == SQLITE_DONE || code == SQLITE_ROW else { throw error(code) }
        return Int(sqlite3_changes(connection))
    }

    /// Runs a query and returns the first column of its first row as an integer.
    func integer() throws -> Int64? {
        defer { sqlite3_reset(statement) }
        let code = sqlite3_step(statement)
        if code == SQLITE_DONE { return nil }
        guard code == SQLITE_ROW else { throw error(code) }
        return sqlite3_column_type(statement, 0) == SQLITE_NULL ? nil : sqlite3_column_int64(statement, 0)
    }

    var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(connection) }

    /// Steps a query: true while there is a row to read with the column accessors.
    func step() throws -> Bool {
        let code = sqlite3_step(statement)
        if code == SQLITE_ROW { return true }
        sqlite3_reset(statement)
        guard code == SQLITE_DONE else { throw error(code) }
        return false
    }

    /// Ends a query read before its last row.
    func finish() {
        sqlite3_reset(statement)
    }

    func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(statement, column) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    func int64(_ column: Int32) -> Int64? {
        sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : sqlite3_column_int64(statement, column)
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
    }
}

extension Database {
    /// Runs `body` with a connection setting changed, and sets it back to
    /// `restoring` afterwards, also when `body` throws. Outside a transaction only.
    func with<T>(pragma name: String, _ value: String, restoring: String, _ body: () throws -> T) throws -> T {
        try cachedStatement(sql: "PRAGMA \(name) = \(value)").execute()
        let result = Result { try body() }
        try cachedStatement(sql: "PRAGMA \(name) = \(restoring)").execute()
        return try result.get()
    }
}
