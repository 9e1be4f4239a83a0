import SeqbridgeStore

/// Errors of the commands themselves; each renders as one sentence naming what is at fault.
public enum AppError: Error, Equatable, Sendable, CustomStringConvertible {
    case sequenceFile(file: String, line: Int?, message: String)
    case unreadableFile(String, why: String)
    case badAddress(field: String, value: String, why: String)
    case badFrom(String)
    case badField(field: String, value: String, why: String)
    case badTimestamp(option: String, value: String)
    case postgresNotAvailable
    case cannotWrite(String, why: String)
    case unusableImport(file: String, why: String)
    case badTransport(String)
    case mailboxCheckFailed(String, String)

    public var description: String {
        switch self {
        case .sequenceFile(let file, let line, let message):
            line.map { "\(file), line \($0): \(message)" } ?? "\(file): \(message)"
        case .unreadableFile(let file, let why): "Cannot read \(file): \(why)."
        case .badAddress(let field, let value, let why): "\(field) '\(value)' is not a usable address: \(why)."
        case .badField(let field, let value, let why): "\(field) '\(value)' is not usable: \(why)."
        case .badFrom(let value):
            "--from '\(value)' is not an address; write it as \"Name <address@example.com>\" or address@example.com."
        case .badTimestamp(let option, let value):
            "\(option) '\(value)' is not an ISO 8601 time; write it as 2026-11-02T10:00:00Z."
        case .postgresNotAvailable:
            "PostgreSQL databases are not supported by this build yet; use a SQLite file path for --database."
        case .cannotWrite(let file, let why): "Cannot write \(file): \(why)."
        case .unusableImport(let file, let why): "Cannot import \(file): \(why)."
        case .badTransport(let why): why.hasSuffix(".") ? why : why + "."
        case .mailboxCheckFailed(let name, let why): "Mailbox '\(name)' cannot send: \(why)."
        }
    }
}
