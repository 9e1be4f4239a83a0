import ArgumentParser
import Foundation
import Logging
import SeqbridgeApp
import SeqbridgeCore
import SeqbridgeMail
import SeqbridgeSQLite

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: "SQLite database file (env SEQBRIDGE_DATABASE; default ./seqbridge.sqlite).")
    var database: String?

    @Option(help: "The time to act at, ISO 8601 (default: the system clock). For tests and replays.")
    var now: String?

    var databasePath: String {
        database ?? ProcessInfo.processInfo.environment["SEQBRIDGE_DATABASE"] ?? "./seqbridge.sqlite"
    }

    func timestamp() throws -> Timestamp {
        guard let now else { return SystemNow().now() }
        guard let parsed = Timestamp(iso8601: now) else { throw AppError.badTimestamp(option: "--now", value: now) }
        return parsed
    }

    func engine() throws -> Engine {
        let path = databasePath
        if path.hasPrefix("postgres://") || path.hasPrefix("postgresql://") { throw AppError.postgresNotAvailable }
        let store = try SQLiteStore(path: path)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var logger = Logger(label: "seqbridge")
        logger.logLevel = .notice
        return Engine(
            store: store, ids: RandomIdentifiers(),
            transports: { mailbox in try TransportURL.transport(for: mailbox.definition.transport, relativeTo: base) },
            logger: logger)
    }
}

extension Status: ExpressibleByArgument {}
extension ReportFormat: ExpressibleByArgument {}

func printErr(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
