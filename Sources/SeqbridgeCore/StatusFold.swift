/// One status change in an enrollment's history, and the event that caused it.
public struct Transition: Sendable, Hashable {
    public var from: Status
    public var to: Status
    public var reason: Reason?
    public var eventKey: String
    public var at: Timestamp
}

/// What an enrollment's events add up to.
public struct EnrollmentState: Sendable, Hashable {
    public var status: Status = .scheduled
    public var reason: Reason?
    public var enrolledAt: Timestamp?
    /// How many distinct steps have been sent.
    public var stepsSent = 0
    public var lastSentAt: Timestamp?
    /// When the current status began (nil while still `scheduled` from the start).
    public var statusChangedAt: Timestamp?
    /// Every status change in order; the last one explains the current status.
    public var transitions: [Transition] = []

    public init() {}
}

/// The status of an enrollment as a pure function of the *set* of its events.
///
/// Events are deduplicated by key, then folded in effective-time order with a
/// fixed tie-break (rank of the event type, then key), so any permutation of
/// the same events, with any duplicates, gives the same state. An event about
/// a message is placed no earlier than that message was sent: a provider clock
/// running behind ours must not make a bounce precede its own email.
public func foldStatus(_ events: some Sequence<Event>) -> EnrollmentState {
    let unique = deduplicated(events)
    var sentAt: [String: Timestamp] = [:]
    var enrolledAt: Timestamp?
    for event in unique {
        if event.type == .stepSent, let messageID = event.messageID {
            sentAt[messageID] = min(sentAt[messageID] ?? event.at, event.at)
        }
        if event.type == .enrolled { enrolledAt = min(enrolledAt ?? event.at, event.at) }
    }
    func effectiveTime(_ event: Event) -> Timestamp {
        var time = event.at
        if let enrolledAt, event.type != .enrolled { time = max(time, enrolledAt) }
        if event.type.isAboutMessage, let messageID = event.messageID, let sent = sentAt[messageID] {
            time = max(time, sent)
        }
        return time
    }
    let ordered = unique.map { (time: effectiveTime($0), event: $0) }.sorted { lhs, rhs in
        if lhs.time != rhs.time { return lhs.time < rhs.time }
        if lhs.event.type.tieBreakRank != rhs.event.type.tieBreakRank {
            return lhs.event.type.tieBreakRank < rhs.event.type.tieBreakRank
        }
        return lhs.event.key < rhs.event.key
    }

    var state = EnrollmentState()
    state.enrolledAt = enrolledAt
    var stepsSeen = Set<Int>()
    for (time, event) in ordered {
        if event.type == .stepSent, let step = event.step {
            stepsSeen.insert(step)
            state.stepsSent = stepsSeen.count
            state.lastSentAt = max(state.lastSentAt ?? time, time)
        }
        guard let (status, reason) = transition(from: state.status, reason: state.reason, on: event)
        else { continue }
        state.transitions.append(
            Transition(from: state.status, to: status, reason: reason, eventKey: event.key, at: time))
        state.status = status
        state.reason = reason
        state.statusChangedAt = time
    }
    return state
}

/// What a stored fold says about itself: enough to tell, for a new event,
/// that folding again would give the same state.
public struct FoldSummary: Sendable, Hashable {
    public var status: Status
    public var reason: Reason?
    /// When the last status change happened (nil when there was none), and the
    /// key of the event that made it (nil when not known).
    public var changedAt: Timestamp?
    public var changeKey: String?

    public init(status: Status, reason: Reason?, changedAt: Timestamp?, changeKey: String?) {
        self.status = status
        self.reason = reason
        self.changedAt = changedAt
        self.changeKey = changeKey
    }
}

/// Whether adding `event`, whose key is new to the history, to a history that
/// folds to `summary` leaves the fold as it is: status, reason, every status
/// change, steps and send times. True when the event comes after the last
/// status change in the fold's order and changes nothing from the status it
/// finds there; false also where that cannot be told without folding again.
///
/// A store asks this before reading an enrollment's events to fold them again:
/// a second bounce for an enrollment already in Error, for example.
public func leavesFoldAlone(_ event: Event, summary: FoldSummary) -> Bool {
    // These move other events: sends and enrolments set the earliest time of later events.
    guard event.type != .stepSent, event.type != .enrolled else { return false }
    if let changedAt = summary.changedAt {
        // The event is placed at its own time or later, never earlier.
        if event.at < changedAt { return false }
        if event.at == changedAt {
            // A tie: the event may sit right at the last change; the fold's tie-break decides.
            guard let changeKey = summary.changeKey, let changeRank = rankOfLastChange(summary) else { return false }
            let rank = event.type.tieBreakRank
            guard rank > changeRank || (rank == changeRank && event.key > changeKey) else { return false }
        }
    }
    return transition(from: summary.status, reason: summary.reason, on: event) == nil
}

/// The tie-break rank of the event that made the last status change, from the
/// state it led to (nil when no event type leads there).
private func rankOfLastChange(_ summary: FoldSummary) -> Int? {
    switch (summary.status, summary.reason) {
    case (.inProgress, _), (.finished, .completed): EventType.stepSent.tieBreakRank
    case (.error, .mailboxDisconnected), (.finished, .unenrolled): EventType.unenrolled.tieBreakRank
    case (.finished, _), (.error, _): EventType.bounced.tieBreakRank
    case (.scheduled, _): nil
    }
}

/// The transition table of SPEC §2; nil where an event changes nothing.
func transition(from status: Status, reason: Reason?, on event: Event) -> (Status, Reason?)? {
    switch (status, event.type) {
    case (.scheduled, .stepSent), (.inProgress, .stepSent):
        guard let step = event.step, let total = event.stepsTotal else { return nil }
        if step >= total { return (.finished, .completed) }
        return status == .scheduled ? (.inProgress, nil) : nil

    case (.inProgress, .replied): return (.finished, .replied)
    case (.inProgress, .complained): return (.finished, .spamComplaint)
    case (.inProgress, .unsubscribed): return (.finished, .unsubscribed)
    case (.inProgress, .bounced), (.inProgress, .failed): return (.error, .bounced)
    case (.inProgress, .rejected): return (.error, .rejected)

    case (.scheduled, .mailboxDisconnected), (.inProgress, .mailboxDisconnected):
        return (.error, .mailboxDisconnected)

    case (.scheduled, .unenrolled), (.inProgress, .unenrolled), (.error, .unenrolled):
        return (.finished, .unenrolled)

    case (.finished, .replied) where reason == .completed: return (.finished, .replied)
    case (.finished, .complained) where reason == .completed: return (.finished, .spamComplaint)
    case (.finished, .unsubscribed) where reason == .completed: return (.finished, .unsubscribed)
    case (.finished, .bounced) where reason == .completed && isPermanent(event.bounceClass):
        return (.error, .bounced)

    default: return nil
    }
}

/// A bounce that says the address itself failed for good. Soft and
/// undetermined bounces stop a running enrollment but do not reopen a completed one.
func isPermanent(_ bounceClass: BounceClass?) -> Bool {
    bounceClass == nil || bounceClass == .hard
}

/// One event per key; where a key was reused with different content, the
/// smallest by a fixed order wins, so the choice never depends on arrival order.
private func deduplicated(_ events: some Sequence<Event>) -> [Event] {
    var byKey: [String: Event] = [:]
    for event in events {
        if let existing = byKey[event.key], !precedes(event, existing) { continue }
        byKey[event.key] = event
    }
    return Array(byKey.values)
}

private func precedes(_ lhs: Event, _ rhs: Event) -> Bool {
    if lhs.at != rhs.at { return lhs.at < rhs.at }
    if lhs.type != rhs.type { return lhs.type.rawValue < rhs.type.rawValue }
    if let order = compare(lhs.messageID, rhs.messageID) { return order }
    if let order = compare(lhs.step, rhs.step) { return order }
    if let order = compare(lhs.stepsTotal, rhs.stepsTotal) { return order }
    return compare(lhs.bounceClass?.rawValue, rhs.bounceClass?.rawValue) ?? false
}

/// Absent before present, then by value; nil when equal.
private func compare<T: Comparable>(_ lhs: T?, _ rhs: T?) -> Bool? {
    switch (lhs, rhs) {
    case (nil, nil): nil
    case (nil, _): true
    case (_, nil): false
    case (let left?, let right?): left == right ? nil : left < right
    }
}
