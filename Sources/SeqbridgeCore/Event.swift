/// What can happen to an enrollment or one of its messages.
///
/// The raw values are the machine names used in the database, in `show --json`
/// and in the normalized provider event model.
public enum EventType: String, Sendable, Hashable, CaseIterable, Codable {
    // Our own actions.
    case enrolled
    case stepSent = "step_sent"
    case unenrolled
    case mailboxDisconnected = "mailbox_disconnected"
    case emailChanged = "email_changed"
    case renderFailed = "render_failed"
    case sendDeferred = "send_deferred"
    // What providers and mail servers report.
    case queued
    case sent
    case delivered
    case deferred
    case bounced
    case rejected
    case failed
    case complained
    case unsubscribed
    case subscribed
    case opened
    case clicked
    case autoReplied = "auto_replied"
    case replied
    case unknown

    /// Whether the event can change an enrollment's status, steps or send times.
    /// The others (delivered, opened, deferred, auto-replies, ...) are recorded
    /// and change nothing, whatever their order: `foldStatus` gives the same
    /// state with or without them, so a store need not fold again for them.
    public var affectsStatus: Bool {
        switch self {
        case .enrolled, .stepSent, .unenrolled, .mailboxDisconnected, .replied, .complained, .unsubscribed, .bounced,
            .failed, .rejected:
            true
        default: false
        }
    }

    /// Facts about one message, which cannot precede that message's sending.
    var isAboutMessage: Bool {
        switch self {
        case .enrolled, .stepSent, .unenrolled, .mailboxDisconnected, .emailChanged, .renderFailed,
            .sendDeferred:
            false
        default: true
        }
    }

    /// Fixed order among events that happen in the same millisecond: an
    /// enrollment exists before anything is sent, a message is sent before
    /// anything is reported about it, and operator actions come last.
    var tieBreakRank: Int {
        switch self {
        case .enrolled: 0
        case .stepSent: 1
        case .unenrolled, .mailboxDisconnected: 3
        default: 2
        }
    }
}

/// One event in an enrollment's history, reduced to what the status rules read.
public struct Event: Sendable, Hashable {
    /// Identity of the event: two events with the same key are the same event
    /// (a provider's retry), and it breaks ties between events at the same time.
    public var key: String
    public var type: EventType
    /// When it happened, by the source's clock.
    public var at: Timestamp
    /// Our Message-ID of the message the event is about, if any.
    public var messageID: String?
    /// For `step_sent`: the 1-based step that was sent and how many steps the
    /// sequence had when it was sent.
    public var step: Int?
    public var stepsTotal: Int?
    public var bounceClass: BounceClass?

    public init(
        key: String, type: EventType, at: Timestamp, messageID: String? = nil, step: Int? = nil,
        stepsTotal: Int? = nil, bounceClass: BounceClass? = nil
    ) {
        self.key = key
        self.type = type
        self.at = at
        self.messageID = messageID
        self.step = step
        self.stepsTotal = stepsTotal
        self.bounceClass = bounceClass
    }
}
