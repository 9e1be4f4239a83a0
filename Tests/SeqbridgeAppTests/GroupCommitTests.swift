import Foundation
import SeqbridgeCore
import SeqbridgeStore
import Testing

@testable import SeqbridgeApp

/// Many concurrent requests through one group commit: each is answered with
/// its own events' dispositions, whichever commit carried it.
@Suite("Group commit")
struct GroupCommitTests {
    static func event(_ id: String) -> ProviderEvent {
        ProviderEvent(
            source: "generic", type: .delivered, messageIDs: ["nobody-\(id)@example.com"], eventID: id,
            timestamp: at("2026-11-02T10:00:00Z"), raw: "{}")
    }

    /// 40 requests at once, each with an event of its own and one they all share.
    static func submitAll(_ commit: GroupCommit) async throws -> [[EventDisposition]] {
        try await withThrowingTaskGroup(of: (Int, [EventDisposition]).self) { group in
            for index in 0..<40 {
                group.addTask {
                    (index, try await commit.submit([event("own-\(index)"), event("shared")], now: routeNow))
                }
            }
            var answers = [[EventDisposition]](repeating: [], count: 40)
            for try await (index, dispositions) in group { answers[index] = dispositions }
            return answers
        }
    }

    static func check(_ answers: [[EventDisposition]]) {
        #expect(answers.allSatisfy { $0.count == 2 && $0[0] == .unmatched })
        #expect(answers.filter { $0[1] == .unmatched }.count == 1)
        #expect(answers.filter { $0[1] == .duplicate }.count == 39)
    }

    @Test func theWriterThreadAnswersEachRequestWithItsOwnEvents() async throws {
        let harness = try Harness()
        Self.check(try await Self.submitAll(GroupCommit(store: harness.engine.store)))
    }

    @Test func theWritingTaskAnswersEachRequestWithItsOwnEvents() async throws {
        let harness = try Harness()
        let store = BrokenEventStore(inner: harness.engine.store, recordsEvents: true)
        #expect(!(store is any BlockingEventRecorder))
        Self.check(try await Self.submitAll(GroupCommit(store: store)))
    }
}
