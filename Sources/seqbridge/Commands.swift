import ArgumentParser
import Foundation
import Logging
import SeqbridgeApp
import SeqbridgeCore
import SeqbridgeHTTP
import SeqbridgeSQLite
import SeqbridgeStore
import SeqbridgeWebhooks

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the service: scheduler loop and HTTP listener (/healthz).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8080
    @Option(help: "Seconds between two scheduler runs (0 turns the scheduler off).") var tickInterval = 30
    @Option(help: "Write the nightly report into this folder every day (see export --nightly).")
    var nightlyExport: String?
    @Option(help: "When to write the nightly report, HH:MM UTC.") var nightlyAt = "00:05"
    @Option(help: "With --nightly-export: remove reports older than this many days.") var keep: Int?
    @Option(help: "The largest webhook body accepted, in bytes.") var maxBodyBytes = 5 << 20
    @Option(
        help: ArgumentHelp("For the benchmark: answer /bench/floor, appending to this database.", visibility: .hidden))
    var benchFloor: String?

    func validate() throws {
        if global.now != nil { throw ValidationError("serve runs on the system clock; --now is for one-off commands.") }
        if Nightly.time(nightlyAt) == nil { throw ValidationError("--nightly-at takes HH:MM (UTC), e.g. 00:05.") }
    }

    func run() async throws {
        // A closed log pipe or a client gone mid-write fails that write (EPIPE); it
        // does not stop the service, which would drop every request in flight.
        signal(SIGPIPE, SIG_IGN)
        let engine = try global.engine(role: .service)
        let environment = ProcessInfo.processInfo.environment
        let secrets = try WebhookSecrets.fromEnvironment(environment)
        let topics = Set(
            (environment["SEQBRIDGE_SES_TOPIC_ARNS"] ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            })
        let extraHosts = Set(
            (environment["SEQBRIDGE_SNS_EXTRA_HOSTS"] ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            })
        var logger = Logger(label: "seqbridge")
        logger.logLevel = .info
        if topics.isEmpty, environment["SEQBRIDGE_SES_VERIFY"] != "false" {
            logger.warning(
                "SEQBRIDGE_SES_TOPIC_ARNS is not set: /webhooks/ses accepts messages SNS signed for any topic")
        }
        let app = buildApplication(
            engine: engine,
            settings: ServerSettings(
                host: host, port: port, tickInterval: tickInterval,
                nightly: nightlyExport.map {
                    NightlySettings(directory: $0, at: Nightly.time(nightlyAt)!, keepDays: keep)
                },
                webhooks: WebhookSettings(
                    secrets: secrets, maxBodyBytes: maxBodyBytes, extraSNSHosts: extraHosts,
                    // On unless turned off for local experiments: SNS messages are always signed.
                    sns: environment["SEQBRIDGE_SES_VERIFY"] == "false"
                        ? nil : SNSVerifier(extraHosts: extraHosts, topics: topics)),
                benchFloor: try benchFloor.map { try AppendOnlyLog(path: $0) }),
            logger: logger,
            onRunning: { port in
                // Written straight to the descriptor so a supervising process sees it at once.
                FileHandle.standardOutput.write(Data("seqbridge listening on http://\(host):\(port)\n".utf8))
            })
        try await app.runService()
    }
}

struct SequenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sequence", abstract: "Create, update and list sequences.",
        subcommands: [Apply.self, List.self])

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create or update a sequence from a YAML file.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The sequence file.") var file: String

        func run() async throws {
            let (definition, result) = try await global.engine().applySequence(file: file, now: global.timestamp())
            print("Sequence '\(definition.name)' \(result.rawValue) (\(definition.steps.count) step(s)).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sequences.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            print(Presenting.sequencesText(try await global.engine().store.sequences()), terminator: "")
        }
    }
}

struct MailboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailbox", abstract: "Sending integrations.",
        subcommands: [Add.self, List.self, Test.self, Disconnect.self, Reconnect.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a mailbox.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The mailbox's name.") var name: String
        @Option(help: "The From header: \"Name <address>\".") var from: String
        @Option(
            help: """
                Where mail goes: file://DIRECTORY, or smtp://USER@HOST:PORT?tls=starttls|tls|none \
                (also auth=plain|login|xoauth2, ca=PEMFILE, helo=NAME, timeout=SECONDS).
                """) var transport: String
        @Option(help: "The environment variable holding the SMTP password (or XOAUTH2 token), read when sending.")
        var passwordEnv: String?
        @Option(help: "A file holding the SMTP password (or XOAUTH2 token), read when sending.")
        var passwordFile: String?
        @Option(help: "How long the server may keep failing before the mailbox is disconnected, e.g. 30m, 1h, 1d.")
        var failureGrace: String = "1h"
        @Option(
            help:
                "An HTTPS page where recipients unsubscribe in one click (List-Unsubscribe); {token} is replaced by the enrollment's token, or token=... is added."
        )
        var unsubscribeURL: String?
        @Option(
            help: "An address recipients can mail to unsubscribe (List-Unsubscribe); the token is added as +TOKEN.")
        var unsubscribeMailto: String?
        @Option(help: "At most this many messages a day (a day in --time-zone).") var dailyCap: Int?
        @Option(help: "At least this long between two messages, e.g. 90s or 2m.") var minSpacing: String?
        @Option(help: "Send only on these days and hours, e.g. \"mon-fri 09:00-17:00\" (in --time-zone).")
        var window: String?
        @Option(help: "The IANA time zone of the window and the daily cap, e.g. Europe/Paris (default UTC).")
        var timeZone: String?

        func run() async throws {
            let grace: WaitDuration
            do {
                grace = try WaitDuration(parsing: failureGrace)
            } catch {
                throw ValidationError("--failure-grace '\(failureGrace)' is not a duration; write it as 30m, 1h or 1d.")
            }
            let url = try Transports.addingSecretSource(transport, environment: passwordEnv, file: passwordFile)
            var spacing: Int64?
            if let minSpacing {
                do {
                    spacing = try WaitDuration(parsing: minSpacing).seconds
                } catch {
                    throw ValidationError("--min-spacing '\(minSpacing)' is not a duration; write it as 90s, 2m or 1h.")
                }
            }
            if let dailyCap, dailyCap < 1 { throw ValidationError("--daily-cap must be at least 1.") }
            if let window { _ = try SendingWindow(parsing: window) }
            if let timeZone, TimeZone(identifier: timeZone) == nil {
                throw ValidationError("--time-zone '\(timeZone)' is not an IANA time zone such as Europe/Paris.")
            }
            try await global.engine().addMailbox(
                name: name, from: from, transport: url, failureGraceSeconds: grace.seconds,
                unsubscribeURL: unsubscribeURL, unsubscribeMailto: unsubscribeMailto,
                limits: (dailyCap, spacing, window, timeZone), now: global.timestamp())
            print("Mailbox '\(name)' added.")
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect and authenticate with a mailbox's server, sending nothing.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The mailbox's name.") var name: String

        func run() async throws {
            let summary = try await global.engine().testMailbox(named: name)
            print("Mailbox '\(name)': \(summary).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List mailboxes.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            print(Presenting.mailboxesText(try await global.engine().store.mailboxes()), terminator: "")
        }
    }

    struct Disconnect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a mailbox disconnected; its running enrollments go to Error.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The mailbox's name.") var name: String
        @Option(help: "Why, recorded in each enrollment's history.") var reason = "disconnected by the operator"

        func run() async throws {
            let moved = try await global.engine().store.disconnectMailbox(
                named: name, detail: "mailbox \(name) disconnected: \(reason)", now: global.timestamp())
            print("Mailbox '\(name)' disconnected; \(moved) enrollment(s) moved to Error (mailbox_disconnected).")
        }
    }

    struct Reconnect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check a mailbox's credentials, then mark it connected again (Error enrollments stay; re-enroll them).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The mailbox's name.") var name: String

        func run() async throws {
            let summary = try await global.engine().reconnectMailbox(named: name, now: global.timestamp())
            print(
                "Mailbox '\(name)' connected (\(summary)). Enrollments in Error stay there: `seqbridge reenroll --sequence NAME --status error` restarts them."
            )
        }
    }
}

struct Enroll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Enrol an influencer (created if new) in a sequence.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The influencer's address.") var email: String
    @Option(help: "The sequence.") var sequence: String
    @Option(help: "The influencer's name, if new.") var name: String?
    @Option(
        name: .customLong("field"),
        help:
            "A field for templates, as KEY=VALUE (first_name, handle, platform, followers or any attribute); repeatable."
    ) var fields: [String] = []
    @Flag(help: "Enrol even if the address is on the suppression list.") var force = false

    func run() async throws {
        var values: [String: String] = [:]
        for field in fields {
            guard let equals = field.firstIndex(of: "="), equals != field.startIndex else {
                throw ValidationError("--field '\(field)' must be written KEY=VALUE.")
            }
            values[String(field[..<equals])] = String(field[field.index(after: equals)...])
        }
        try await global.engine().enroll(
            email: email, sequence: sequence, name: name, fields: values, force: force, now: global.timestamp())
        print("Enrolled \(email) in '\(sequence)' (Scheduled).")
    }
}

struct Unenroll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop an influencer's enrollment: Finished (unenrolled).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The influencer's address.") var email: String
    @Option(help: "The sequence.") var sequence: String

    func run() async throws {
        try await global.engine().unenroll(email: email, sequence: sequence, now: global.timestamp())
        print("Unenrolled \(email) from '\(sequence)' (Finished, unenrolled).")
    }
}

struct Reenroll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Unenroll an Error enrollment and enrol afresh; with --status error, every one in the sequence.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The influencer's address (omit with --status).") var email: String?
    @Option(help: "The sequence.") var sequence: String
    @Option(help: "Re-enrol every enrollment of the sequence in this status (only 'error').") var status: Status?
    @Flag(help: "Re-enrol even if the address is on the suppression list.") var force = false

    func validate() throws {
        if email == nil && status == nil { throw ValidationError("Name an EMAIL, or --status error for all.") }
        if email != nil && status != nil { throw ValidationError("Give either an EMAIL or --status, not both.") }
        if let status, status != .error { throw ValidationError("--status takes only 'error'.") }
    }

    func run() async throws {
        let engine = try global.engine()
        if let email {
            try await engine.reenroll(email: email, sequence: sequence, force: force, now: global.timestamp())
            print("Re-enrolled \(email) in '\(sequence)' (Scheduled).")
            return
        }
        let result = try await engine.reenrollAll(sequence: sequence, status: .error, now: global.timestamp())
        print("Re-enrolled \(result.reenrolled) enrollment(s) in '\(sequence)'.")
        for skipped in result.skipped { print("Skipped \(skipped.email): \(skipped.why).") }
    }
}

struct InfluencerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "influencer", abstract: "Influencer records.", subcommands: [SetEmail.self])

    struct SetEmail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-email", abstract: "Change an influencer's address; restarts and re-sends nothing.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The current address.") var old: String
        @Argument(help: "The new address.") var new: String

        func run() async throws {
            try await global.engine().changeEmail(from: old, to: new, now: global.timestamp())
            print("\(old) is now \(new). No enrollment was restarted.")
        }
    }
}

struct SuppressionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suppression", abstract: "Addresses never to enrol.",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put an address on the suppression list.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The address.") var email: String
        @Option(help: "Why.") var detail: String?

        func run() async throws {
            let address = try Engine.address(email, field: "EMAIL").value
            try await global.engine().store.suppress(
                email: address, reason: .manual, detail: detail, now: global.timestamp())
            print("\(address) is on the suppression list.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List suppressed addresses.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            for entry in try await global.engine().store.suppressions() {
                print("\(entry.email)\t\(entry.reason.rawValue)\t\(entry.createdAt.iso8601)\t\(entry.detail ?? "")")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take an address off the suppression list.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The address.") var email: String

        func run() async throws {
            let address = try Engine.address(email, field: "EMAIL").value
            let removed = try await global.engine().store.unsuppress(email: address)
            print(removed ? "\(address) is no longer suppressed." : "\(address) was not on the suppression list.")
        }
    }
}

struct Tick: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send every step due now, once, then exit.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let report = try await global.engine().tick(now: global.timestamp())
        print(
            "Sent \(report.sent) step(s); \(report.deferred) deferred; \(report.bounced) bounced."
                + (report.waiting > 0 ? " \(report.waiting) held back by sending limits." : ""))
        for failure in report.renderFailures { printErr("Not sent: \(failure).") }
        for name in report.disconnected {
            printErr(
                "Mailbox '\(name)' was disconnected; its running enrollments are in Error. `seqbridge mailbox list` shows why; fix it, then `seqbridge mailbox reconnect \(name)`."
            )
        }
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Counts per status and reason.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this sequence.") var sequence: String?
    @Flag(help: "JSON output.") var json = false

    func run() async throws {
        let store = try global.engine().store
        let counts = try await store.statusCounts(sequence: sequence)
        let unconfirmed = try await store.unconfirmedCount()
        print(
            json
                ? try Presenting.statusJSON(counts, unconfirmed: unconfirmed)
                : Presenting.statusText(counts, unconfirmed: unconfirmed), terminator: "")
    }
}

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An influencer's enrollments with their full history and why each status is what it is.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The influencer's address.") var email: String
    @Flag(help: "JSON output.") var json = false

    func run() async throws {
        let address = try Engine.address(email, field: "EMAIL").value
        guard let history = try await global.engine().store.history(email: address) else {
            throw StoreError.unknownInfluencer(address)
        }
        print(json ? try Presenting.showJSON(history) : Presenting.showText(history), terminator: "")
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write the status report as CSV or JSON lines.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "csv or jsonl.") var format: ReportFormat = .csv
    @Option(help: "Write to this file (atomically) instead of standard output.") var out: String?
    @Option(help: "Only this sequence.") var sequence: String?
    @Option(help: "Only this status.") var status: Status?
    @Option(help: "Only enrollments changed at or after this ISO 8601 time.") var since: String?
    @Option(help: "Write the nightly report seqbridge-report-YYYY-MM-DD.csv (the previous UTC day) into DIR.")
    var nightly: String?
    @Option(help: "With --nightly: remove reports older than this many days.") var keep: Int?

    func validate() throws {
        if nightly != nil, out != nil || sequence != nil || status != nil || since != nil || format != .csv {
            throw ValidationError("--nightly writes the whole report as CSV; it takes only --keep.")
        }
        if keep != nil, nightly == nil { throw ValidationError("--keep goes with --nightly.") }
        if let keep, keep < 1 { throw ValidationError("--keep takes a number of days, 1 or more.") }
    }

    func run() async throws {
        let engine = try global.engine()
        if let nightly {
            let result = try await engine.nightlyExport(directory: nightly, keepDays: keep, now: global.timestamp())
            printErr("Wrote \(result.rows) row(s) to \(result.path).")
            for name in result.removed { printErr("Removed \(name) (older than \(keep ?? 0) days).") }
            return
        }
        var after: Timestamp?
        if let since {
            guard let parsed = Timestamp(iso8601: since) else {
                throw AppError.badTimestamp(option: "--since", value: since)
            }
            after = parsed
        }
        let rows = try await engine.export(
            format: format, filter: ExportFilter(sequence: sequence, status: status, since: after), to: out)
        if let out { printErr("Wrote \(rows) row(s) to \(out).") }
    }
}

struct Import: AsyncParsableCommand {
    /// One line of progress on the terminal: a bar, rows, rows per second and time left.
    static func showProgress(rows: Int, bytes: Int, size: Int, started: UInt64) {
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let rate = Int(Double(rows) / max(seconds, 0.001))
        let left = bytes > 0 && size > bytes ? Int(seconds * Double(size - bytes) / Double(bytes)) : 0
        let filled = size > 0 ? min(30, 30 * bytes / size) : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: 30 - filled)
        let eta = "\(left / 60):" + (left % 60 < 10 ? "0" : "") + "\(left % 60)"
        FileHandle.standardError.write(Data("\r[\(bar)] \(rows) rows  \(rate) rows/s  ETA \(eta) ".utf8))
    }

    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Enrol every influencer of a CSV file in a sequence.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The CSV file (UTF-8; comma, semicolon or tab separated; a header row with an email column).")
    var file: String
    @Option(help: "The sequence.") var sequence: String
    @Flag(help: "Report exactly what would happen, and write nothing.") var dryRun = false
    @Option(help: "Write skipped and rejected rows (line, email, reason) to this CSV file.") var errors: String?
    @Option(
        name: .customLong("map"),
        help:
            "Read COLUMN as FIELD (email, name, first_name, last_name, handle, platform, followers, or an attribute name); repeatable."
    ) var mappings: [String] = []
    @Flag(help: "Overwrite existing influencers' fields with the file's non-empty values.") var updateExisting = false
    @Flag(help: "Print the summary as JSON on standard output.") var json = false
    @Option(help: "Rows committed together.") var batchSize = 5_000

    func run() async throws {
        let engine = try global.engine()
        let terminal = isatty(STDERR_FILENO) == 1
        let started = DispatchTime.now().uptimeNanoseconds
        var progress: (@Sendable (Int, Int, Int) -> Void)?
        if terminal {
            progress = { @Sendable rows, bytes, size in
                Self.showProgress(rows: rows, bytes: bytes, size: size, started: started)
            }
        }
        var importer = Importer(engine: engine)
        importer.batchSize = max(1, batchSize)
        var request = Importer.Request(
            file: file, options: ImportOptions(sequence: sequence, updateExisting: updateExisting, dryRun: dryRun),
            mappings: mappings, errorsFile: errors, progress: progress)
        if let row = ProcessInfo.processInfo.environment["SEQBRIDGE_FAULT_KILL_AT_IMPORT_ROW"].flatMap({ Int($0) }) {
            // Fault injection for the crash test: SIGKILL when that row is read.
            request.onRow = { if $0 == row { kill(getpid(), SIGKILL) } }
        }
        let summary = try await importer.run(request, now: global.timestamp())
        if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        printErr(summary.text)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        }
    }
}

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply a saved webhook payload, email or delivery report, by the same path as the listener.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The saved request body.") var file: String
    @Option(
        help: """
            Where it came from: a webhook provider (\(Providers.names.joined(separator: ", "))); \
            raw (an RFC 5322 message); inbound-sendgrid, inbound-mailgun, inbound-postmark, inbound-ses \
            (an inbound-mail webhook body); dsn (a delivery report, MIME or XML); dsn-xml.
            """) var source: String
    @Option(help: "The request's content type, when it matters.") var contentType: String?
    @Flag(help: "Decode and print; store and apply nothing.") var dryRun = false
    @Flag(help: "Print each normalized event as a JSON line.") var json = false

    func validate() throws {
        guard Engine.ingestSources.contains(source) else {
            throw ValidationError("--source must be one of \(Engine.ingestSources.joined(separator: ", ")).")
        }
    }

    func run() async throws {
        let (events, matches, summary) = try await global.engine().ingest(
            file: file, source: source, contentType: contentType, dryRun: dryRun, withMatches: json,
            now: global.timestamp())
        if json { for (event, match) in zip(events, matches) { print(Engine.eventJSON(event, match: match)) } }
        if let summary {
            printErr(
                "\(file): \(summary.received) event(s); \(summary.applied) applied, \(summary.duplicates) duplicate(s), \(summary.unmatched) unmatched, \(summary.malformed) malformed."
            )
        } else {
            printErr("\(file): \(events.count) event(s) decoded; dry run: nothing stored.")
        }
    }
}

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Reported events.", subcommands: [Retry.self])

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Match unmatched events again and apply those that match now.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let result = try await global.engine().store.retryUnmatched(now: global.timestamp())
            print("\(result.applied) event(s) applied; \(result.unmatched) still unmatched.")
        }
    }
}
