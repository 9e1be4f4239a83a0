import SeqbridgeCore

/// Whether a mailbox may send.
public enum MailboxState: String, Sendable, Hashable, Codable {
    case connected
    case disconnected
}

/// A sending integration as the operator configured it.
public struct MailboxDefinition: Sendable, Hashable {
    public var name: String
    public var fromName: String?
    public var fromAddress: EmailAddress
    /// Where messages go, e.g. `file://outbox`.
    public var transport: String
    /// How long the mailbox's server may keep failing before the mailbox is disconnected.
    public var failureGraceSeconds: Int64
    /// Where recipients unsubscribe (`List-Unsubscribe`): an HTTPS URL (one-click,
    /// RFC 8058) and/or a mail address; the enrollment's token is added to each.
    public var unsubscribeURL: String?
    public var unsubscribeMailto: String?
    /// Sending limits: at most this many messages a day (local day in `timeZone`),
    /// at least this long between two, and only inside the window (`mon-fri 09:00-17:00`).
    public var dailyCap: Int?
    public var minSpacingSeconds: Int64?
    public var sendWindow: String?
    /// An IANA zone (`Europe/Paris`); nil is UTC.
    public var timeZone: String?

    public init(
        name: String, fromName: String?, fromAddress: EmailAddress, transport: String,
        failureGraceSeconds: Int64 = 3600, unsubscribeURL: String? = nil, unsubscribeMailto: String? = nil,
        dailyCap: Int? = nil, minSpacingSeconds: Int64? = nil, sendWindow: String? = nil, timeZone: String? = nil
    ) {
        self.dailyCap = dailyCap
        self.minSpacingSeconds = minSpacingSeconds
        self.sendWindow = sendWindow
        self.timeZone = timeZone
        self.name = name
        self.fromName = fromName
        self.fromAddress = fromAddress
        self.transport = transport
        self.failureGraceSeconds = failureGraceSeconds
        self.unsubscribeURL = unsubscribeURL
        self.unsubscribeMailto = unsubscribeMailto
    }
}

public struct MailboxRecord: Sendable, Hashable {
    public var id: Int64
    public var definition: MailboxDefinition
    public var state: MailboxState
    public var stateDetail: String?
    public var stateChangedAt: Timestamp?
    /// Since when sending has been failing for reasons of the server (nil: it works).
    public var failingSince: Timestamp?
    public var failingDetail: String?

    public init(
        id: Int64, definition: MailboxDefinition, state: MailboxState, stateDetail: String?,
        stateChangedAt: Timestamp?, failingSince: Timestamp? = nil, failingDetail: String? = nil
    ) {
        self.id = id
        self.definition = definition
        self.state = state
        self.stateDetail = stateDetail
        self.stateChangedAt = stateChangedAt
        self.failingSince = failingSince
        self.failingDetail = failingDetail
    }
}

/// One step of a sequence: wait, then send these templates.
public struct StepDefinition: Sendable, Hashable {
    public var wait: WaitDuration
    public var subject: String
    public var body: String
    /// An HTML alternative to the text body, when the step has one.
    public var html: String?

    public init(wait: WaitDuration, subject: String, body: String, html: String? = nil) {
        self.wait = wait
        self.subject = subject
        self.body = body
        self.html = html
    }
}

public struct SequenceDefinition: Sendable, Hashable {
    public var name: String
    public var mailbox: String
    public var steps: [StepDefinition]

    public init(name: String, mailbox: String, steps: [StepDefinition]) {
        self.name = name
        self.mailbox = mailbox
        self.steps = steps
    }
}

public enum SequenceApplyResult: String, Sendable, Hashable {
    case created
    case updated
    case unchanged
}

public struct SequenceSummary: Sendable, Hashable {
    public var name: String
    public var mailbox: String
    public var steps: [StepDefinition]
    public var enrollments: Int
    public var active: Int

    public init(name: String, mailbox: String, steps: [StepDefinition], enrollments: Int, active: Int) {
        self.name = name
        self.mailbox = mailbox
        self.steps = steps
        self.enrollments = enrollments
        self.active = active
    }
}

/// What we know about an influencer; every field but the address is optional.
public struct InfluencerFields: Sendable, Hashable, Codable {
    public var email: String
    public var name: String?
    public var firstName: String?
    public var lastName: String?
    public var handle: String?
    public var platform: String?
    public var followers: Int64?
    /// Any other CSV column, usable in templates.
    public var attributes: [String: String]

    public init(
        email: String, name: String? = nil, firstName: String? = nil, lastName: String? = nil,
        handle: String? = nil, platform: String? = nil, followers: Int64? = nil,
        attributes: [String: String] = [:]
    ) {
        self.email = email
        self.name = name
        self.firstName = firstName
        self.lastName = lastName
        self.handle = handle
        self.platform = platform
        self.followers = followers
        self.attributes = attributes
    }

    /// The values templates can name, known fields first and attributes after.
    public var templateValues: [String: String] {
        var values = attributes
        values["email"] = email
        if let name { values["name"] = name }
        if let firstName { values["first_name"] = firstName }
        if let lastName { values["last_name"] = lastName }
        if let handle { values["handle"] = handle }
        if let platform { values["platform"] = platform }
        if let followers { values["followers"] = String(followers) }
        if values["first_name"] == nil, let name,
            let first = name.split(separator: " ").first.map(String.init), !first.isEmpty
        {
            values["first_name"] = first
        }
        return values
    }
}

/// One scheduled step ready to render: everything the scheduler needs in one read.
public struct DueStep: Sendable, Hashable {
    public var enrollmentID: Int64
    public var token: String
    public var sequence: String
    /// 1-based number of the step to send.
    public var step: Int
    public var stepsTotal: Int
    public var dueAt: Timestamp
    public var influencer: InfluencerFields
    public var template: StepDefinition
    public var mailbox: MailboxRecord

    public init(
        enrollmentID: Int64, token: String, sequence: String, step: Int, stepsTotal: Int, dueAt: Timestamp,
        influencer: InfluencerFields, template: StepDefinition, mailbox: MailboxRecord
    ) {
        self.enrollmentID = enrollmentID
        self.token = token
        self.sequence = sequence
        self.step = step
        self.stepsTotal = stepsTotal
        self.dueAt = dueAt
        self.influencer = influencer
        self.template = template
        self.mailbox = mailbox
    }

    /// Where the next page of due steps starts.
    public var cursor: DueCursor { DueCursor(dueAt: dueAt, enrollmentID: enrollmentID) }
}

public struct DueCursor: Sendable, Hashable {
    public var dueAt: Timestamp
    public var enrollmentID: Int64

    public init(dueAt: Timestamp, enrollmentID: Int64) {
        self.dueAt = dueAt
        self.enrollmentID = enrollmentID
    }
}

/// The scheduler's request to take a step for sending.
public struct ClaimRequest: Sendable, Hashable {
    public var enrollmentID: Int64
    public var step: Int
    public var messageID: String
    public var recipient: String

    public init(enrollmentID: Int64, step: Int, messageID: String, recipient: String) {
        self.enrollmentID = enrollmentID
        self.step = step
        self.messageID = messageID
        self.recipient = recipient
    }
}

/// What the transport said about one claimed message.
public enum SendResult: Sendable, Hashable {
    /// Accepted for delivery; the provider's own id when it gives one.
    case sent(providerMessageID: String?)
    /// Not sent this time; try again at `retryAt`. The claim is released.
    case deferred(detail: String, retryAt: Timestamp)
    /// The receiving side refused this recipient for good.
    case bounced(detail: String, bounceClass: BounceClass)
}

public struct SendReport: Sendable, Hashable {
    public var messageID: String
    public var result: SendResult

    public init(messageID: String, result: SendResult) {
        self.messageID = messageID
        self.result = result
    }
}

/// A step that could not be rendered, e.g. a template naming a field the influencer lacks.
public struct RenderFailure: Sendable, Hashable {
    public var enrollmentID: Int64
    public var step: Int
    public var detail: String

    public init(enrollmentID: Int64, step: Int, detail: String) {
        self.enrollmentID = enrollmentID
        self.step = step
        self.detail = detail
    }
}

public struct StatusCount: Sendable, Hashable, Codable {
    public var sequence: String
    public var status: Status
    public var reason: Reason?
    public var count: Int

    public init(sequence: String, status: Status, reason: Reason?, count: Int) {
        self.sequence = sequence
        self.status = status
        self.reason = reason
        self.count = count
    }
}

/// One row of the status report, in the SPEC's column order.
public struct ExportRow: Sendable, Hashable {
    public var email: String
    public var name: String?
    public var sequence: String
    public var status: Status
    public var reason: Reason?
    public var stepsSent: Int
    public var stepsTotal: Int
    public var enrolledAt: Timestamp
    public var lastSentAt: Timestamp?
    public var nextSendAt: Timestamp?
    public var finishedAt: Timestamp?
    public var detail: String?

    public init(
        email: String, name: String?, sequence: String, status: Status, reason: Reason?, stepsSent: Int,
        stepsTotal: Int, enrolledAt: Timestamp, lastSentAt: Timestamp?, nextSendAt: Timestamp?,
        finishedAt: Timestamp?, detail: String?
    ) {
        self.email = email
        self.name = name
        self.sequence = sequence
        self.status = status
        self.reason = reason
        self.stepsSent = stepsSent
        self.stepsTotal = stepsTotal
        self.enrolledAt = enrolledAt
        self.lastSentAt = lastSentAt
        self.nextSendAt = nextSendAt
        self.finishedAt = finishedAt
        self.detail = detail
    }
}

public struct ExportFilter: Sendable, Hashable {
    public var sequence: String?
    public var status: Status?
    /// Only enrollments whose row changed at or after this time (events that
    /// leave the status, counters and times as they were do not count).
    public var since: Timestamp?

    public init(sequence: String? = nil, status: Status? = nil, since: Timestamp? = nil) {
        self.sequence = sequence
        self.status = status
        self.since = since
    }
}

/// One stored event, as `show` prints it.
public struct EventRecord: Sendable, Hashable {
    public var key: String
    public var type: EventType
    public var at: Timestamp
    public var recordedAt: Timestamp
    public var source: String
    public var messageID: String?
    public var step: Int?
    public var stepsTotal: Int?
    public var bounceClass: BounceClass?
    public var detail: String?

    public init(
        key: String, type: EventType, at: Timestamp, recordedAt: Timestamp, source: String, messageID: String?,
        step: Int?, stepsTotal: Int?, bounceClass: BounceClass?, detail: String?
    ) {
        self.key = key
        self.type = type
        self.at = at
        self.recordedAt = recordedAt
        self.source = source
        self.messageID = messageID
        self.step = step
        self.stepsTotal = stepsTotal
        self.bounceClass = bounceClass
        self.detail = detail
    }

    /// The part the status rules read.
    public var coreEvent: Event {
        Event(
            key: key, type: type, at: at, messageID: messageID, step: step, stepsTotal: stepsTotal,
            bounceClass: bounceClass)
    }
}

/// A message we claimed or sent.
public struct MessageRecord: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        /// Taken for sending; the transport's answer was never recorded.
        case claimed
        case sent
        case bounced
    }

    public var step: Int
    public var messageID: String
    public var recipient: String
    public var state: State
    public var claimedAt: Timestamp
    public var sentAt: Timestamp?
    public var providerMessageID: String?

    public init(
        step: Int, messageID: String, recipient: String, state: State, claimedAt: Timestamp, sentAt: Timestamp?,
        providerMessageID: String?
    ) {
        self.step = step
        self.messageID = messageID
        self.recipient = recipient
        self.state = state
        self.claimedAt = claimedAt
        self.sentAt = sentAt
        self.providerMessageID = providerMessageID
    }
}

/// Everything about one enrollment, for `show`.
public struct EnrollmentHistory: Sendable, Hashable {
    public var token: String
    public var row: ExportRow
    public var mailbox: String
    public var mailboxState: MailboxState
    public var retryAfter: Timestamp?
    /// Why the next step waits past its time (a sending limit of the mailbox).
    public var waitReason: String?
    public var events: [EventRecord]
    public var messages: [MessageRecord]

    public init(
        token: String, row: ExportRow, mailbox: String, mailboxState: MailboxState, retryAfter: Timestamp?,
        waitReason: String? = nil, events: [EventRecord], messages: [MessageRecord]
    ) {
        self.waitReason = waitReason
        self.token = token
        self.row = row
        self.mailbox = mailbox
        self.mailboxState = mailboxState
        self.retryAfter = retryAfter
        self.events = events
        self.messages = messages
    }
}

public struct InfluencerHistory: Sendable, Hashable {
    public var influencer: InfluencerFields
    public var suppressed: SuppressionReason?
    public var enrollments: [EnrollmentHistory]

    public init(influencer: InfluencerFields, suppressed: SuppressionReason?, enrollments: [EnrollmentHistory]) {
        self.influencer = influencer
        self.suppressed = suppressed
        self.enrollments = enrollments
    }
}

public struct SuppressionEntry: Sendable, Hashable {
    public var email: String
    public var reason: SuppressionReason
    public var detail: String?
    public var createdAt: Timestamp

    public init(email: String, reason: SuppressionReason, detail: String?, createdAt: Timestamp) {
        self.email = email
        self.reason = reason
        self.detail = detail
        self.createdAt = createdAt
    }
}

public struct BulkReenrollResult: Sendable, Hashable {
    public var reenrolled: Int
    /// Addresses left alone, each with why.
    public var skipped: [(email: String, why: String)]

    public init(reenrolled: Int, skipped: [(email: String, why: String)]) {
        self.reenrolled = reenrolled
        self.skipped = skipped
    }

    public static func == (lhs: BulkReenrollResult, rhs: BulkReenrollResult) -> Bool {
        lhs.reenrolled == rhs.reenrolled && lhs.skipped.map(\.email) == rhs.skipped.map(\.email)
            && lhs.skipped.map(\.why) == rhs.skipped.map(\.why)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(reenrolled)
        for entry in skipped {
            hasher.combine(entry.email)
            hasher.combine(entry.why)
        }
    }
}

/// One good row of an import file, ready to enrol.
public struct ImportRow: Sendable, Hashable {
    /// Where the row starts in the file.
    public var line: Int
    /// The influencer, address already normalised.
    public var fields: InfluencerFields
    /// The token a new enrollment gets.
    public var token: String
    /// The attributes as stored, encoded where the row is made (the import's reading thread).
    public var attributesJSON: String

    public init(line: Int, fields: InfluencerFields, token: String) {
        self.line = line
        self.fields = fields
        self.token = token
        self.attributesJSON = fields.attributesJSON
    }
}

/// What an import did with one row.
public struct ImportOutcome: Sendable, Hashable {
    public enum Result: String, Sendable, Hashable {
        case enrolled
        case skipped
        case rejected
    }

    public var result: Result
    /// A new influencer was created for the row.
    public var created = false
    /// An existing influencer's fields changed (only with `updateExisting`).
    public var updated = false
    /// Why the row was skipped or rejected.
    public var reason: String?

    public init(result: Result, created: Bool = false, updated: Bool = false, reason: String? = nil) {
        self.result = result
        self.created = created
        self.updated = updated
        self.reason = reason
    }
}

public struct ImportOptions: Sendable, Hashable {
    public var sequence: String
    /// Overwrite existing influencers' fields with the file's non-empty values.
    public var updateExisting: Bool
    /// Decide every row exactly as a real run would, then write nothing.
    public var dryRun: Bool

    public init(sequence: String, updateExisting: Bool, dryRun: Bool) {
        self.sequence = sequence
        self.updateExisting = updateExisting
        self.dryRun = dryRun
    }
}

extension InfluencerFields {
    /// The attributes as a JSON object with sorted keys, as the database stores them.
    public var attributesJSON: String {
        var text = "{"
        for (index, key) in attributes.keys.sorted().enumerated() {
            if index > 0 { text += "," }
            text += jsonString(key) + ":" + jsonString(attributes[key]!)
        }
        return text + "}"
    }
}

/// A JSON string literal.
public func jsonString(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case let control where control.value < 0x20:
            let hex = String(control.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// One event a provider or mail server reported, in the normalized model
/// shared by every webhook, inbound email and delivery report.
public struct ProviderEvent: Sendable, Hashable {
    /// Where it came from: `sendgrid`, `mailgun`, ..., `generic`, `dsn`.
    public var source: String
    public var type: EventType
    public var recipient: String?
    /// Our Message-IDs found in the event, without angle brackets.
    public var messageIDs: [String]
    /// The provider's own id for the message, as returned when it was sent.
    public var providerMessageID: String?
    /// Our enrollment token, when the provider echoed it.
    public var token: String?
    /// The provider's event id, or a hash of the raw event where it gives none.
    public var eventID: String
    public var timestamp: Timestamp
    public var bounceClass: BounceClass?
    /// The SMTP diagnostic or the provider's explanation.
    public var detail: String?
    /// The event as received.
    public var raw: String
    /// Set when the event could not be read: recorded with its reason, applied to nothing.
    public var malformed: String?
    /// What a delivery status report said about this recipient, when the event came from one.
    public var delivery: DeliveryFacts?

    public init(
        source: String, type: EventType, recipient: String? = nil, messageIDs: [String] = [],
        providerMessageID: String? = nil, token: String? = nil, eventID: String, timestamp: Timestamp,
        bounceClass: BounceClass? = nil, detail: String? = nil, raw: String, malformed: String? = nil,
        delivery: DeliveryFacts? = nil
    ) {
        self.source = source
        self.type = type
        self.recipient = recipient
        self.messageIDs = messageIDs
        self.providerMessageID = providerMessageID
        self.token = token
        self.eventID = eventID
        self.timestamp = timestamp
        self.bounceClass = bounceClass
        self.detail = detail
        self.raw = raw
        self.malformed = malformed
        self.delivery = delivery
    }

    /// The event's identity in the history: the same provider event twice is one event.
    public var key: String { source + ":" + eventID }
}

/// What became of one reported event.
/// One recipient's entry in a delivery status report (RFC 3464 terms).
public struct DeliveryFacts: Sendable, Hashable {
    /// `failed`, `delayed`, `delivered`, `relayed` or `expanded`.
    public var action: String
    /// The enhanced status code, e.g. `5.1.1`.
    public var status: String?
    /// The coarse reason: `user_unknown`, `mailbox_full`, ...
    public var reason: String?
    /// The server that answered, e.g. `dns; mx.example.org`.
    public var remoteMTA: String?

    public init(action: String, status: String? = nil, reason: String? = nil, remoteMTA: String? = nil) {
        self.action = action
        self.status = status
        self.reason = reason
        self.remoteMTA = remoteMTA
    }
}

/// A mailbox's recent sending, for its limits.
public struct MailboxSendStats: Sendable, Hashable {
    public var sentSince: Int
    public var lastSentAt: Timestamp?

    public init(sentSince: Int, lastSentAt: Timestamp?) {
        self.sentSince = sentSince
        self.lastSentAt = lastSentAt
    }
}

/// The message an event was matched to, and how (SPEC §3).
public struct MessageMatch: Sendable, Hashable {
    /// Our Message-ID of the message, when the enrollment has sent one.
    public var messageID: String?
    public var email: String
    public var sequence: String
    /// `message_id`, `token`, `provider_id` or `recipient` (the weak match).
    public var how: String

    public init(messageID: String?, email: String, sequence: String, how: String) {
        self.messageID = messageID
        self.email = email
        self.sequence = sequence
        self.how = how
    }
}

public enum EventDisposition: String, Sendable, Hashable, Codable {
    /// Matched to a message or enrollment and folded into its status.
    case applied
    /// Seen before (a provider retry): stored once, applied once.
    case duplicate
    /// Matches nothing yet: kept, applied when its message appears or on `events retry`.
    case unmatched
    /// Could not be read: kept with its reason.
    case malformed
}

/// A status change, for counting.
public struct StatusChange: Sendable, Hashable {
    public var from: Status
    public var to: Status
    public var reason: Reason?

    public init(from: Status, to: Status, reason: Reason?) {
        self.from = from
        self.to = to
        self.reason = reason
    }
}

/// What one transaction of reported events did.
public struct RecordedEvents: Sendable, Hashable {
    /// One per event, in order.
    public var dispositions: [EventDisposition]
    /// The status changes the events caused, counted.
    public var transitions: [StatusChange: Int]

    public init(dispositions: [EventDisposition], transitions: [StatusChange: Int]) {
        self.dispositions = dispositions
        self.transitions = transitions
    }
}
