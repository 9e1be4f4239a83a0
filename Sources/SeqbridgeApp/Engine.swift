import Foundation
import Logging
import SeqbridgeCore
import SeqbridgeMail
import SeqbridgeStore

/// The use cases behind the commands, one method each, wired from injected seams.
public struct Engine: Sendable {
    public let store: any Store
    public let ids: any IdentifierSource
    /// Builds the transport for a mailbox's URL; relative `file://` paths are
    /// taken from the database's folder.
    public let transports: @Sendable (MailboxRecord) throws -> any MailTransport
    public var logger: Logger
    /// How many due steps are read, claimed and confirmed together.
    public var batchSize = 500
    /// How long a step waits after a temporary transport failure.
    public var retryDelaySeconds: Int64 = 300

    public init(
        store: any Store, ids: any IdentifierSource,
        transports: @escaping @Sendable (MailboxRecord) throws -> any MailTransport,
        logger: Logger = Logger(label: "seqbridge")
    ) {
        self.store = store
        self.ids = ids
        self.transports = transports
        self.logger = logger
    }

    // MARK: Sequences and mailboxes

    public func applySequence(file: String, now: Timestamp) async throws -> (SequenceDefinition, SequenceApplyResult) {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw AppError.unreadableFile(file, why: Self.unreadableReason(file))
        }
        let definition = try SequenceFile.parse(text, file: file)
        return (definition, try await store.applySequence(definition, now: now))
    }

    public func addMailbox(
        name: String, from: String, transport: String, failureGraceSeconds: Int64 = 3600,
        unsubscribeURL: String? = nil, unsubscribeMailto: String? = nil,
        limits: (dailyCap: Int?, minSpacingSeconds: Int64?, window: String?, timeZone: String?) = (nil, nil, nil, nil),
        now: Timestamp
    ) async throws {
        guard let parsed = Self.parseFrom(from) else { throw AppError.badFrom(from) }
        try Transports.validate(transport)
        if let url = unsubscribeURL {
            guard let scheme = URL(string: url)?.scheme?.lowercased(), scheme == "https" || scheme == "http",
                URL(string: url)?.host != nil
            else {
                throw AppError.badField(
                    field: "--unsubscribe-url", value: url, why: "write it as https://HOST/PATH (HTTPS for one-click)")
            }
        }
        let mailto = try unsubscribeMailto.map { try Self.address($0, field: "--unsubscribe-mailto").value }
        try await store.addMailbox(
            MailboxDefinition(
                name: name, fromName: parsed.name, fromAddress: parsed.address, transport: transport,
                failureGraceSeconds: failureGraceSeconds, unsubscribeURL: unsubscribeURL, unsubscribeMailto: mailto,
                dailyCap: limits.dailyCap, minSpacingSeconds: limits.minSpacingSeconds, sendWindow: limits.window,
                timeZone: limits.timeZone),
            now: now)
    }

    /// Why a file that could not be read as text could not be.
    static func unreadableReason(_ file: String) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else { return "no such file" }
        if isDirectory.boolValue { return "it is a folder" }
        guard FileManager.default.isReadableFile(atPath: file) else { return "permission denied" }
        return "it is not UTF-8 text"
    }

    /// `Name <address>` or a bare address.
    static func parseFrom(_ text: String) -> (name: String?, address: EmailAddress)? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let open = trimmed.lastIndex(of: "<"), trimmed.hasSuffix(">") {
            var name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 {
                name = String(name.dropFirst().dropLast())
            }
            guard let address = try? EmailAddress(String(trimmed[open...])) else { return nil }
            return (name.isEmpty ? nil : name, address)
        }
        guard let address = try? EmailAddress(trimmed) else { return nil }
        return (nil, address)
    }

    // MARK: Enrollments

    /// Enrols one influencer; `fields` may hold the known fields by their
    /// column names (`first_name`, `handle`, ...) and any other attribute.
    public func enroll(
        email: String, sequence: String, name: String?, fields: [String: String] = [:], force: Bool, now: Timestamp
    ) async throws {
        let address = try Self.address(email, field: "EMAIL")
        var influencer = InfluencerFields(email: address.value, name: name)
        var attributes = fields
        influencer.name = name ?? attributes.removeValue(forKey: "name")
        influencer.firstName = attributes.removeValue(forKey: "first_name")
        influencer.lastName = attributes.removeValue(forKey: "last_name")
        influencer.handle = attributes.removeValue(forKey: "handle")
        influencer.platform = attributes.removeValue(forKey: "platform")
        if let followers = attributes.removeValue(forKey: "followers") {
            guard let count = Int64(followers) else {
                throw AppError.badField(field: "followers", value: followers, why: "it is not a whole number")
            }
            influencer.followers = count
        }
        influencer.attributes = attributes
        try await store.enroll(
            influencer, sequence: sequence, token: ids.enrollmentToken(), force: force, now: now)
    }

    public func unenroll(email: String, sequence: String, now: Timestamp) async throws {
        try await store.unenroll(email: try Self.address(email, field: "EMAIL").value, sequence: sequence, now: now)
    }

    public func reenroll(email: String, sequence: String, force: Bool, now: Timestamp) async throws {
        try await store.reenroll(
            email: try Self.address(email, field: "EMAIL").value, sequence: sequence, token: ids.enrollmentToken(),
            force: force, now: now)
    }

    public func reenrollAll(sequence: String, status: Status, now: Timestamp) async throws -> BulkReenrollResult {
        let ids = self.ids
        return try await store.reenrollAll(
            sequence: sequence, status: status, now: now, makeToken: { ids.enrollmentToken() })
    }

    public func changeEmail(from old: String, to new: String, now: Timestamp) async throws {
        try await store.changeEmail(
            from: try Self.address(old, field: "OLD").value, to: try Self.address(new, field: "NEW").value, now: now)
    }

    public static func address(_ raw: String, field: String) throws -> EmailAddress {
        do {
            return try EmailAddress(raw)
        } catch .empty {
            throw AppError.badAddress(field: field, value: raw, why: "it is empty")
        } catch .invalid(_, let why) {
            throw AppError.badAddress(field: field, value: raw, why: why)
        }
    }

    // MARK: Scheduler

    /// What one `tick` did.
    public struct TickReport: Sendable, Hashable {
        public var sent = 0
        public var deferred = 0
        public var bounced = 0
        /// Steps that could not be rendered: who, which step, and why.
        public var renderFailures: [String] = []
        /// Steps another run claimed first, or that stopped being due meanwhile.
        public var skipped = 0
        /// Mailboxes disconnected because their server refused the credentials or kept failing.
        public var disconnected: [String] = []
        /// Due steps held back by their mailbox's sending limits.
        public var waiting = 0
    }

    /// Sends every step due at `now` once. Each batch is claimed durably
    /// before any of it is handed to a transport, and confirmed after; a
    /// crash in between leaves its steps claimed and unconfirmed, never resent.
    public func tick(now: Timestamp) async throws -> TickReport {
        var report = TickReport()
        var cursor: DueCursor?
        var transportsByMailbox: [Int64: any MailTransport] = [:]
        var health = MailboxHealth()
        var limits = LimitBudget(store: store)
        let templates = StepRenderer.Cache()
        while true {
            let due = try await store.dueSteps(now: now, after: cursor, limit: batchSize)
            guard let last = due.last else { break }
            cursor = last.cursor
            var requests: [ClaimRequest] = []
            var messages: [String: (OutgoingMessage, MailboxRecord)] = [:]
            var failures: [RenderFailure] = []
            var postponed: [String: [(enrollmentID: Int64, until: Timestamp)]] = [:]
            for step in due {
                if let wait = try await limits.check(step.mailbox, now: now) {
                    postponed[wait.reason, default: []].append((step.enrollmentID, wait.until))
                    report.waiting += 1
                    continue
                }
                switch StepRenderer.render(step.template, for: step.influencer, cache: templates) {
                case .failure(let problem):
                    failures.append(
                        RenderFailure(enrollmentID: step.enrollmentID, step: step.step, detail: "\(problem)"))
                    report.renderFailures.append(
                        "\(step.influencer.email) in '\(step.sequence)', step \(step.step): \(problem)")
                case .success(let rendered):
                    let from = step.mailbox.definition
                    let messageID = ids.messageID(domain: String(from.fromAddress.domain))
                    let message = MessageComposer.compose(
                        .init(
                            from: Mailbox(name: from.fromName, address: from.fromAddress.value),
                            to: Mailbox(name: step.influencer.name, address: step.influencer.email),
                            subject: rendered.subject, textBody: rendered.body, date: now, messageID: messageID,
                            enrollmentToken: step.token, htmlBody: rendered.html, unsubscribeURL: from.unsubscribeURL,
                            unsubscribeMailto: from.unsubscribeMailto))
                    messages[messageID] = (message, step.mailbox)
                    // Built before anything is claimed: a mailbox whose transport cannot be
                    // built must fail the tick without leaving claimed steps behind.
                    if transportsByMailbox[step.mailbox.id] == nil {
                        transportsByMailbox[step.mailbox.id] = try transports(step.mailbox)
                    }
                    requests.append(
                        ClaimRequest(
                            enrollmentID: step.enrollmentID, step: step.step, messageID: messageID,
                            recipient: step.influencer.email))
                }
            }
            for (reason, items) in postponed { try await store.postponeSteps(items, reason: reason) }
            try await store.recordRenderFailures(failures, now: now)
            let claimed = try await store.claim(requests, now: now)
            report.skipped += requests.count - claimed.count

            var reports: [SendReport] = []
            reports.reserveCapacity(claimed.count)
            for request in claimed {
                guard let (message, mailbox) = messages[request.messageID],
                    let transport = transportsByMailbox[mailbox.id]
                else { continue }
                let name = mailbox.definition.name
                // A mailbox whose server failed in this tick is not tried again in it.
                if let down = health.down[name] {
                    reports.append(
                        SendReport(
                            messageID: request.messageID,
                            result: .deferred(detail: down, retryAt: health.retryAt(name, now: now))))
                    report.deferred += 1
                    continue
                }
                let outcome = await transport.send(message)
                switch outcome {
                case .accepted(let providerMessageID):
                    reports.append(
                        SendReport(messageID: request.messageID, result: .sent(providerMessageID: providerMessageID)))
                    report.sent += 1
                    if mailbox.failingSince != nil { health.recovered.insert(name) }
                case .temporaryFailure(let detail):
                    logger.warning(
                        "send deferred", metadata: ["message_id": "\(request.messageID)", "detail": "\(detail)"])
                    reports.append(
                        SendReport(
                            messageID: request.messageID,
                            result: .deferred(detail: detail, retryAt: now.adding(seconds: retryDelaySeconds))))
                    report.deferred += 1
                case .recipientRejected(let detail, let bounceClass):
                    reports.append(
                        SendReport(
                            messageID: request.messageID, result: .bounced(detail: detail, bounceClass: bounceClass)))
                    report.bounced += 1
                case .mailboxUnavailable(let detail), .mailboxRejected(let detail):
                    logger.warning(
                        "mailbox cannot send", metadata: ["mailbox": "\(name)", "detail": "\(detail)"])
                    let since = try await store.noteMailboxFailure(named: name, detail: detail, now: now)
                    health.failingSince[name] = since
                    health.down[name] = detail
                    if case .mailboxRejected = outcome {
                        health.disconnect[name] = "mailbox \(name) disconnected: \(detail)"
                    } else if now.millisecondsSinceEpoch - since.millisecondsSinceEpoch
                        >= mailbox.definition.failureGraceSeconds * 1000
                    {
                        health.disconnect[name] =
                            "mailbox \(name) disconnected: failing since \(since.iso8601): \(detail)"
                    }
                    reports.append(
                        SendReport(
                            messageID: request.messageID,
                            result: .deferred(detail: detail, retryAt: health.retryAt(name, now: now))))
                    report.deferred += 1
                }
            }
            // Recorded after the batch, not beside it: measured, overlapping the
            // database's writes with the transport's file writes was slower.
            try await recordSends(reports, now: now)
            // Steps released above first, then the mailbox: its running enrollments go to Error.
            for (name, detail) in health.disconnect.sorted(by: { $0.key < $1.key }) {
                let moved = try await store.disconnectMailbox(named: name, detail: detail, now: now)
                logger.error("mailbox disconnected", metadata: ["mailbox": "\(name)", "enrollments": "\(moved)"])
                report.disconnected.append(name)
                health.disconnect[name] = nil
                health.disconnected.insert(name)
            }
        }
        for transport in transportsByMailbox.values { await transport.close() }
        for name in health.recovered where health.down[name] == nil {
            try await store.clearMailboxFailure(named: name)
        }
        return report
    }

    /// Each mailbox's sending limits within one tick: what it has left today and
    /// when it may send next. Steps over a limit wait until it allows them.
    struct LimitBudget {
        struct Budget {
            var limits: SendingLimits
            var remainingToday: Int?
            var nextAllowed: Timestamp?
        }
        let store: any Store
        var budgets: [Int64: Budget?] = [:]

        init(store: any Store) { self.store = store }

        /// Nil when the step may go now (and counts it); otherwise until when and why it waits.
        mutating func check(_ mailbox: MailboxRecord, now: Timestamp) async throws -> (
            until: Timestamp, reason: String
        )? {
            if budgets[mailbox.id] == nil {
                let limits = SendingLimits(definition: mailbox.definition)
                if limits.isEmpty {
                    budgets[mailbox.id] = .some(nil)
                } else {
                    let stats = try await store.mailboxSendStats(mailboxID: mailbox.id, since: limits.startOfDay(now))
                    budgets[mailbox.id] = Budget(
                        limits: limits, remainingToday: limits.dailyCap.map { max(0, $0 - stats.sentSince) },
                        nextAllowed: limits.minSpacingSeconds.flatMap { spacing in
                            stats.lastSentAt.map { $0.adding(seconds: spacing) }
                        })
                }
            }
            guard var budget = budgets[mailbox.id] ?? nil else { return nil }
            let limits = budget.limits
            let zone = limits.timeZone.identifier
            if !limits.isOpen(now), let window = limits.window {
                return (limits.nextOpening(now), "outside the sending window \(window) (\(zone))")
            }
            if let remaining = budget.remainingToday, remaining <= 0 {
                let until = limits.nextOpening(limits.startOfNextDay(now))
                return (until, "the daily cap of \(limits.dailyCap ?? 0) message(s) is reached (\(zone) day)")
            }
            if let next = budget.nextAllowed, next > now {
                let until = limits.nextOpening(next)
                return (until, "at most one message every \(limits.minSpacingSeconds ?? 0) s from this mailbox")
            }
            budget.remainingToday = budget.remainingToday.map { $0 - 1 }
            budget.nextAllowed = limits.minSpacingSeconds.map { now.adding(seconds: $0) }
            budgets[mailbox.id] = budget
            return nil
        }
    }

    /// What one tick learned about its mailboxes' servers.
    struct MailboxHealth {
        /// Mailboxes whose server failed in this tick, with why.
        var down: [String: String] = [:]
        var failingSince: [String: Timestamp] = [:]
        /// Mailboxes to disconnect once the batch is recorded, with the detail.
        var disconnect: [String: String] = [:]
        var disconnected: Set<String> = []
        /// Mailboxes that had been failing and sent again.
        var recovered: Set<String> = []

        /// Backoff: the longer a server has been failing, the longer the wait (5 minutes to an hour).
        func retryAt(_ name: String, now: Timestamp) -> Timestamp {
            let failing = failingSince[name].map { now.millisecondsSinceEpoch - $0.millisecondsSinceEpoch } ?? 0
            let wait = min(max(failing / 1000, 300), 3600)
            return now.adding(seconds: wait)
        }
    }

    /// Records what the transport said, trying again a few times: these
    /// messages have gone out, and an answer not recorded leaves them
    /// unconfirmed for good.
    func recordSends(_ reports: [SendReport], now: Timestamp) async throws {
        var attempt = 0
        while true {
            do {
                return try await store.recordSends(reports, now: now)
            } catch {
                attempt += 1
                guard attempt < 4 else { throw error }
                logger.warning("recording sends failed, trying again", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }
}
