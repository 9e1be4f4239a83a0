import ArgumentParser
import Foundation
import Logging
import SeqbridgeApp
import SeqbridgeCore
import SeqbridgeHTTP
import SeqbridgeStore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the service: scheduler loop and HTTP listener (/healthz).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8080
    @Option(help: "Seconds between two scheduler runs (0 turns the scheduler off).") var tickInterval = 30

    func run() async throws {
        let engine = try global.engine()
        var logger = Logger(label: "seqbridge")
        logger.logLevel = .info
        let app = buildApplication(
            engine: engine, settings: ServerSettings(host: host, port: port, tickInterval: tickInterval),
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
        subcommands: [Add.self, List.self, Disconnect.self, Reconnect.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a mailbox.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The mailbox's name.") var name: String
        @Option(help: "The From header: \"Name <address>\".") var from: String
        @Option(help: "Where mail goes: file://DIRECTORY.") var transport: String

        func run() async throws {
            try await global.engine().addMailbox(name: name, from: from, transport: transport, now: global.timestamp())
            print("Mailbox '\(name)' added.")
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
            abstract: "Mark a mailbox connected again (Error enrollments stay; re-enroll them).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The mailbox's name.") var name: String

        func run() async throws {
            try await global.engine().store.reconnectMailbox(named: name, now: global.timestamp())
            print(
                "Mailbox '\(name)' connected. Enrollments in Error stay there: `seqbridge reenroll --sequence NAME --status error` restarts them."
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
            let address = try EmailAddress(email).value
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
            let address = try EmailAddress(email).value
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
        print("Sent \(report.sent) step(s); \(report.deferred) deferred; \(report.bounced) bounced.")
        for failure in report.renderFailures { printErr("Not sent: \(failure).") }
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
        let address = try EmailAddress(email).value
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

    func run() async throws {
        let rows = try await global.engine().export(
            format: format, filter: ExportFilter(sequence: sequence, status: status), to: out)
        if let out { printErr("Wrote \(rows) row(s) to \(out).") }
    }
}
