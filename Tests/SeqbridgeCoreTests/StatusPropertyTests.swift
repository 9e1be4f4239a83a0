import Testing

@testable import SeqbridgeCore

/// A small deterministic generator (SplitMix64) so every run sees the same histories.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Order and duplicates do not matter")
struct StatusPropertyTests {
    static let reportTypes: [EventType] = [
        .delivered, .deferred, .bounced, .failed, .rejected, .complained, .unsubscribed, .opened, .clicked,
        .autoReplied, .replied, .unknown, .queued, .sent,
    ]

    /// A random but plausible history: enrolment, some sends, provider reports
    /// about those messages (often with equal timestamps to stress the
    /// tie-break), and operator actions.
    static func randomHistory(_ rng: inout SplitMix64) -> [Event] {
        let total = Int.random(in: 1...4, using: &rng)
        let start = Int64.random(in: 0...1_000, using: &rng) * 1000
        var events = [Event(key: "enrolled", type: .enrolled, at: Timestamp(millisecondsSinceEpoch: start))]
        let sends = Int.random(in: 0...total, using: &rng)
        var time = start
        for step in stride(from: 1, through: sends, by: 1) {
            time += Int64.random(in: 0...5, using: &rng) * 1000
            events.append(
                Event(
                    key: "sent:\(step)", type: .stepSent, at: Timestamp(millisecondsSinceEpoch: time),
                    messageID: "m\(step)", step: step, stepsTotal: total))
        }
        for index in 0..<Int.random(in: 0...6, using: &rng) {
            let type = reportTypes.randomElement(using: &rng)!
            // Reports may carry times before, at or after their message was sent.
            let at = start + Int64.random(in: -3...30, using: &rng) * 1000
            let message = sends > 0 ? "m\(Int.random(in: 1...sends, using: &rng))" : nil
            events.append(
                Event(
                    key: "r\(index)", type: type, at: Timestamp(millisecondsSinceEpoch: at), messageID: message,
                    bounceClass: type == .bounced ? BounceClass.allCases.randomElement(using: &rng) : nil))
        }
        if Bool.random(using: &rng) {
            let type: EventType = [.unenrolled, .mailboxDisconnected, .emailChanged].randomElement(using: &rng)!
            events.append(
                Event(
                    key: "op", type: type,
                    at: Timestamp(millisecondsSinceEpoch: start + Int64.random(in: 0...30, using: &rng) * 1000)))
        }
        return events
    }

    @Test func everyPermutationAndDuplicationGivesTheSameStatus() {
        var rng = SplitMix64(state: 20_261_129)
        var statusesSeen = Set<String>()
        for _ in 0..<1_500 {
            let history = Self.randomHistory(&rng)
            let expected = foldStatus(history)
            statusesSeen.insert("\(expected.status)/\(expected.reason.map(\.rawValue) ?? "")")
            for _ in 0..<8 {
                var replay = history.shuffled(using: &rng)
                for _ in 0..<Int.random(in: 0...4, using: &rng) {
                    replay.insert(
                        history.randomElement(using: &rng)!, at: Int.random(in: 0...replay.count, using: &rng))
                }
                let state = foldStatus(replay)
                #expect(state == expected, "history \(history) replayed as \(replay)")
                if state != expected { return }
            }
        }
        // The generator must reach every status and most reasons, or the property proves little.
        #expect(statusesSeen.count >= 9, "only reached \(statusesSeen.sorted())")
    }

    @Test func eventsThatCannotChangeTheStatusChangeNothing() {
        // Stores skip folding for these; the fold must agree.
        var rng = SplitMix64(state: 99)
        for _ in 0..<1_000 {
            let history = Self.randomHistory(&rng)
            let significant = history.filter { $0.type.affectsStatus }
            #expect(foldStatus(significant) == foldStatus(history), "\(history)")
        }
    }

    /// Where `leavesFoldAlone` says a new event changes nothing, folding again
    /// with it gives the same state; and it says so often enough to matter.
    @Test func eventsSaidToLeaveTheFoldAloneDo() {
        var rng = SplitMix64(state: 2_026_113)
        var alone = 0
        var ties = 0
        for index in 0..<4_000 {
            let history = Self.randomHistory(&rng)
            let state = foldStatus(history)
            let type = Self.reportTypes.filter(\.affectsStatus).randomElement(using: &rng)!
            // Often at exactly the time of the last change, to exercise the tie-break.
            let time =
                Bool.random(using: &rng) && state.statusChangedAt != nil
                ? state.statusChangedAt!.millisecondsSinceEpoch
                : history[0].at.millisecondsSinceEpoch + Int64.random(in: -3...40, using: &rng) * 1000
            let sends = history.filter { $0.type == .stepSent }.count
            let event = Event(
                key: "n\(Int.random(in: 0...9, using: &rng))-\(index)", type: type,
                at: Timestamp(millisecondsSinceEpoch: time),
                messageID: sends > 0 ? "m\(Int.random(in: 1...sends, using: &rng))" : nil,
                bounceClass: type == .bounced ? BounceClass.allCases.randomElement(using: &rng) : nil)
            let summary = FoldSummary(
                status: state.status, reason: state.reason, changedAt: state.statusChangedAt,
                changeKey: state.transitions.last?.eventKey)
            guard leavesFoldAlone(event, summary: summary) else { continue }
            alone += 1
            if event.at == state.statusChangedAt { ties += 1 }
            let after = foldStatus(history + [event])
            #expect(after == state, "\(event) after \(history)")
            if after != state { return }
        }
        #expect(alone > 500, "only \(alone) events were said to change nothing")
        #expect(ties > 50, "only \(ties) of them at the time of the last change")
    }

    @Test func statusMatchesANaiveReferenceOnSortedInput() {
        // Independent check of the ordering: sending never goes backwards and
        // steps sent equals the number of distinct steps in the history.
        var rng = SplitMix64(state: 7)
        for _ in 0..<1_000 {
            let history = Self.randomHistory(&rng)
            let state = foldStatus(history)
            let distinctSteps = Set(history.compactMap { $0.type == .stepSent ? $0.step : nil })
            #expect(state.stepsSent == distinctSteps.count)
            #expect((state.status == .scheduled) == state.transitions.isEmpty)
        }
    }
}
