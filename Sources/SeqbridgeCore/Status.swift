/// The four statuses an enrollment can be in (SPEC §2).
public enum Status: String, Sendable, Hashable, CaseIterable, Codable {
    case scheduled
    case inProgress = "in_progress"
    case finished
    case error

    /// The label the dashboard shows.
    public var label: String {
        switch self {
        case .scheduled: "Scheduled"
        case .inProgress: "In Progress"
        case .finished: "Finished"
        case .error: "Error"
        }
    }

    /// Still running: the scheduler may send to it.
    public var isActive: Bool { self == .scheduled || self == .inProgress }
}

/// Why an enrollment is `finished` or in `error`.
public enum Reason: String, Sendable, Hashable, CaseIterable, Codable {
    // finished
    case completed
    case replied
    case unenrolled
    case spamComplaint = "spam_complaint"
    case unsubscribed
    // error
    case bounced
    case rejected
    case mailboxDisconnected = "mailbox_disconnected"

    public var status: Status {
        switch self {
        case .completed, .replied, .unenrolled, .spamComplaint, .unsubscribed: .finished
        case .bounced, .rejected, .mailboxDisconnected: .error
        }
    }
}

/// How a provider or a delivery report classed a bounce.
public enum BounceClass: String, Sendable, Hashable, CaseIterable, Codable {
    /// The address itself is bad: unknown user or domain, moved, null MX.
    case hard
    /// Full mailbox, policy or spam block, expired: the address may work later.
    case soft
    case undetermined
}
