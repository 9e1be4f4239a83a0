import Testing

@testable import SeqbridgeCore

/// Builds histories for one enrollment of a sequence with `total` steps.
struct History {
    var total: Int
    var events: [Event] = []
    private var clock: Int64 = 1_000_000

    init(total: Int) {
        self.total = total
        events.append(Event(key: "enrolled", type: .enrolled, at: Timestamp(millisecondsSinceEpoch: clock)))
    }

    mutating func later(_ seconds: Int64 = 60) -> Timestamp {
        clock += seconds * 1000
        return Timestamp(millisecondsSinceEpoch: clock)
    }

    mutating func send(_ step: Int) {
        events.append(
            Event(
                key: "sent:\(step)", type: .stepSent, at: later(), messageID: "m\(step)", step: step,
                stepsTotal: total))
    }

    mutating func report(_ type: EventType, on step: Int? = nil, bounce: BounceClass? = nil, key: String? = nil) {
        events.append(
            Event(
                key: key ?? "\(type.rawValue):\(events.count)", type: type, at: later(),
                messageID: step.map { "m\($0)" }, bounceClass: bounce))
    }

    var state: EnrollmentState { foldStatus(events) }
}

@Suite("Status transitions (SPEC §2)")
struct StatusTransitionTests {
    @Test func enrolledIsScheduled() {
        let history = History(total: 3)
        #expect(history.state.status == .scheduled)
        #expect(history.state.reason == nil)
        #expect(history.state.stepsSent == 0)
    }

    @Test func firstOfThreeStepsIsInProgress() {
        var history = History(total: 3)
        history.send(1)
        #expect(history.state.status == .inProgress)
        #expect(history.state.stepsSent == 1)
    }

    @Test func oneStepSequenceGoesStraightToCompleted() {
        var history = History(total: 1)
        history.send(1)
        #expect(history.state.status == .finished)
        #expect(history.state.reason == .completed)
        #expect(!history.state.transitions.contains { $0.to == .inProgress })
    }

    @Test func lastStepCompletes() {
        var history = History(total: 3)
        history.send(1)
        history.send(2)
        history.send(3)
        #expect(history.state.status == .finished)
        #expect(history.state.reason == .completed)
        #expect(history.state.stepsSent == 3)
    }

    @Test(arguments: [
        (EventType.replied, Status.finished, Reason.replied),
        (.complained, .finished, .spamComplaint),
        (.unsubscribed, .finished, .unsubscribed),
        (.bounced, .error, .bounced),
        (.failed, .error, .bounced),
        (.rejected, .error, .rejected),
    ])
    func inProgressExits(event: EventType, status: Status, reason: Reason) {
        var history = History(total: 3)
        history.send(1)
        history.report(event, on: 1, bounce: event == .bounced ? .hard : nil)
        #expect(history.state.status == status)
        #expect(history.state.reason == reason)
    }

    @Test(arguments: [EventType.delivered, .opened, .clicked, .deferred, .autoReplied, .queued, .sent, .unknown])
    func recordedButNeverStops(event: EventType) {
        var history = History(total: 3)
        history.send(1)
        history.report(event, on: 1)
        #expect(history.state.status == .inProgress)
        #expect(history.state.transitions.count == 1)
    }

    @Test func mailboxDisconnectStopsScheduledAndInProgress() {
        var scheduled = History(total: 3)
        scheduled.report(.mailboxDisconnected)
        #expect(scheduled.state.status == .error)
        #expect(scheduled.state.reason == .mailboxDisconnected)

        var running = History(total: 3)
        running.send(1)
        running.report(.mailboxDisconnected)
        #expect(running.state.reason == .mailboxDisconnected)

        var finished = History(total: 1)
        finished.send(1)
        finished.report(.mailboxDisconnected)
        #expect(finished.state.reason == .completed)
    }

    @Test func unenrollFromScheduledInProgressAndError() {
        var scheduled = History(total: 2)
        scheduled.report(.unenrolled)
        #expect(scheduled.state.reason == .unenrolled)

        var running = History(total: 2)
        running.send(1)
        running.report(.unenrolled)
        #expect(running.state.reason == .unenrolled)

        var errored = History(total: 2)
        errored.send(1)
        errored.report(.bounced, on: 1, bounce: .hard)
        errored.report(.unenrolled)
        #expect(errored.state.status == .finished)
        #expect(errored.state.reason == .unenrolled)

        var completed = History(total: 1)
        completed.send(1)
        completed.report(.unenrolled)
        #expect(completed.state.reason == .completed)
    }

    @Test(arguments: [
        (EventType.replied, Status.finished, Reason.replied),
        (.complained, .finished, .spamComplaint),
        (.unsubscribed, .finished, .unsubscribed),
        (.bounced, .error, .bounced),
    ])
    func completedCanStillChange(event: EventType, status: Status, reason: Reason) {
        var history = History(total: 1)
        history.send(1)
        history.report(event, on: 1, bounce: .hard)
        #expect(history.state.status == status)
        #expect(history.state.reason == reason)
    }

    @Test func otherFinishedReasonsAreFinal() {
        var replied = History(total: 3)
        replied.send(1)
        replied.report(.replied, on: 1)
        replied.report(.bounced, on: 1, bounce: .hard)
        replied.report(.complained, on: 1)
        #expect(replied.state.reason == .replied)

        var unenrolled = History(total: 3)
        unenrolled.send(1)
        unenrolled.report(.unenrolled)
        unenrolled.report(.replied, on: 1)
        #expect(unenrolled.state.reason == .unenrolled)
    }

    @Test func errorIsNotRevivedByReplies() {
        var history = History(total: 3)
        history.send(1)
        history.report(.bounced, on: 1, bounce: .soft)
        history.report(.replied, on: 1)
        #expect(history.state.status == .error)
        #expect(history.state.reason == .bounced)
    }

    @Test func emailChangeRestartsNothing() {
        var history = History(total: 3)
        history.send(1)
        history.report(.emailChanged)
        #expect(history.state.status == .inProgress)
        #expect(history.state.stepsSent == 1)
    }

    @Test func eventBeforeItsMessageWasSentIsPlacedAfterIt() {
        // The provider's clock runs two minutes behind ours.
        var history = History(total: 3)
        let early = history.later(0)
        history.send(1)
        history.events.append(
            Event(key: "bounce", type: .bounced, at: early.adding(seconds: -120), messageID: "m1", bounceClass: .hard))
        #expect(history.state.status == .error)
        #expect(history.state.reason == .bounced)
    }

    @Test func lastTransitionNamesTheDecidingEvent() {
        var history = History(total: 3)
        history.send(1)
        history.report(.delivered, on: 1)
        history.report(.replied, on: 1, key: "reply-1")
        #expect(history.state.transitions.last?.eventKey == "reply-1")
        #expect(history.state.transitions.map(\.to) == [.inProgress, .finished])
    }

    @Test func suppressionOnlyForComplaintsUnsubscribesAndHardBounces() {
        let at = Timestamp(millisecondsSinceEpoch: 0)
        #expect(suppressionReason(for: Event(key: "a", type: .complained, at: at)) == .spamComplaint)
        #expect(suppressionReason(for: Event(key: "a", type: .unsubscribed, at: at)) == .unsubscribed)
        #expect(suppressionReason(for: Event(key: "a", type: .bounced, at: at, bounceClass: .hard)) == .hardBounce)
        #expect(suppressionReason(for: Event(key: "a", type: .bounced, at: at, bounceClass: .soft)) == nil)
        #expect(suppressionReason(for: Event(key: "a", type: .deferred, at: at)) == nil)
        #expect(suppressionReason(for: Event(key: "a", type: .replied, at: at)) == nil)
    }
}

@Suite("Schedule")
struct ScheduleTests {
    let waits = [WaitDuration(seconds: 3600), WaitDuration(seconds: 3 * 86_400)]

    @Test func firstStepDueAfterFirstWait() {
        let history = History(total: 2)
        let due = nextSendAt(state: history.state, waits: waits)
        #expect(due == Timestamp(millisecondsSinceEpoch: 1_000_000 + 3_600_000))
        #expect(!isDue(nextSendAt: due, now: Timestamp(millisecondsSinceEpoch: 1_000_000 + 3_599_999)))
        #expect(isDue(nextSendAt: due, now: Timestamp(millisecondsSinceEpoch: 1_000_000 + 3_600_000)))
    }

    @Test func laterStepsCountFromThePreviousSend() {
        var history = History(total: 2)
        history.send(1)
        let sentAt = history.state.lastSentAt!
        #expect(nextSendAt(state: history.state, waits: waits) == sentAt.adding(seconds: 3 * 86_400))
    }

    @Test func nothingDueOnceStopped() {
        var history = History(total: 2)
        history.send(1)
        history.report(.replied, on: 1)
        #expect(nextSendAt(state: history.state, waits: waits) == nil)
        var completed = History(total: 2)
        completed.send(1)
        completed.send(2)
        #expect(nextSendAt(state: completed.state, waits: waits) == nil)
    }

    @Test func retryHoldsTheStepBack() {
        let history = History(total: 2)
        let hold = Timestamp(millisecondsSinceEpoch: 99_000_000)
        #expect(nextSendAt(state: history.state, waits: waits, notBefore: hold) == hold)
    }
}
