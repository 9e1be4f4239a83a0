/// When an enrollment's next step is due, or nil when nothing more will be sent.
///
/// Step 1 is due `waits[0]` after enrolment; step k is due `waits[k-1]` after
/// step k-1 was sent. `notBefore` holds a step back, e.g. after a temporary
/// transport failure.
public func nextSendAt(
    state: EnrollmentState, waits: [WaitDuration], notBefore: Timestamp? = nil
) -> Timestamp? {
    guard state.status.isActive, state.stepsSent < waits.count else { return nil }
    let base = state.stepsSent == 0 ? state.enrolledAt : state.lastSentAt
    guard let base else { return nil }
    let due = base.adding(seconds: waits[state.stepsSent].seconds)
    guard let notBefore else { return due }
    return max(due, notBefore)
}

/// Whether a step should go out at `now`.
public func isDue(nextSendAt: Timestamp?, now: Timestamp) -> Bool {
    guard let nextSendAt else { return false }
    return nextSendAt <= now
}
