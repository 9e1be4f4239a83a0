import ArgumentParser
import Foundation
import Logging
import SeqbridgeApp
import SeqbridgeCore
import SeqbridgeMail
import SeqbridgeSQLite
import SeqbridgeStore

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

    func engine(role: SQLiteStore.Role = .command) throws -> Engine {
        let path = databasePath
        if path.hasPrefix("postgres://") || path.hasPrefix("postgresql://") { throw AppError.postgresNotAvailable }
        let store: SQLiteStore
        do {
            store = try SQLiteStore(path: path, role: role)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.unavailable("\(path): \(error)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var logger = Logger(label: "seqbridge")
        logger.logLevel = .notice
        let killAfter = ProcessInfo.processInfo.environment["SEQBRIDGE_FAULT_KILL_AFTER_SENDS"].flatMap { Int($0) }
        return Engine(
            store: store, ids: RandomIdentifiers(),
            transports: { mailbox in
                let transport = try Transports.make(for: mailbox.definition.transport, relativeTo: base)
                return killAfter.map { FaultInjection.KillAfterSends(transport, limit: $0) } ?? transport
            },
            logger: logger)
    }
}

/// Fault injection for crash tests, switched on only by the environment.
enum FaultInjection {
    /// Kills the process with SIGKILL right after the transport accepted the
    /// `limit`-th message and before seqbridge could record it: the worst moment to crash.
    final class KillAfterSends: MailTransport, @unchecked Sendable {
        private let inner: any MailTransport
        private let limit: Int
        private let lock = NSLock()
        private var accepted = 0

        init(_ inner: any MailTransport, limit: Int) {
            self.inner = inner
            self.limit = limit
        }

        func send(_ message: OutgoingMessage) async -> TransportOutcome {
            let outcome = await inner.send(message)
            if case .accepted = outcome {
                let count = lock.withLock {
                    accepted += 1
                    return accepted
                }
                if count >= limit { kill(getpid(), SIGKILL) }
            }
            return outcome
        }

        func close() async { await inner.close() }
    }
}

extension Status: ExpressibleByArgument {}
extension ReportFormat: ExpressibleByArgument {}

func printErr(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
