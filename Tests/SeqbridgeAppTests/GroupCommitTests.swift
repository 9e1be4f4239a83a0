import Foundation
import SeqbridgeCore
import SeqbridgeSQLite
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

    /// The service's store syncs commits on a thread of their own; answers wait for it.
    @Test func theSyncingThreadAnswersEachRequestWithItsOwnEvents() async throws {
        let harness = try Harness()
        let store = try SQLiteStore(path: harness.folder.appendingPathComponent("service.sqlite").path, role: .service)
        #expect(store.canDeferSync)
        Self.check(try await Self.submitAll(GroupCommit(store: store)))
    }

    /// A sync that fails fails every request it was to make durable, even
    /// though their transactions committed: the provider is to retry them. A
    /// commit too small to hand its sync over syncs itself and succeeds.
    @Test func aFailedSyncFailsEveryRequestWaitingForIt() async throws {
        let harness = try Harness()
        guard let store = harness.engine.store as? SQLiteStore else { throw FailingSync.Failure() }
        let commit = GroupCommit(store: store, recorder: FailingSync(inner: store), onTransitions: { _ in })
        let failures = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<10 {
                group.addTask {
                    let events = (0..<GroupCommit.deferredSyncEvents).map { Self.event("lost-\(index)-\($0)") }
                    do {
                        _ = try await commit.submit(events, now: routeNow)
                        return false
                    } catch {
                        return error is FailingSync.Failure
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(failures == 10)
        #expect(try await commit.submit([Self.event("small")], now: routeNow) == [.unmatched])
    }

    @Test func theWritingTaskAnswersEachRequestWithItsOwnEvents() async throws {
        let harness = try Harness()
        let store = BrokenEventStore(inner: harness.engine.store, recordsEvents: true)
        #expect(!(store is any BlockingEventRecorder))
        Self.check(try await Self.submitAll(GroupCommit(store: store)))
    }
}

/// Records for real, but its syncs fail, as a disk that stopped answering would.
struct FailingSync: BlockingEventRecorder {
    let inner: SQLiteStore
    struct Failure: Error {}

    func recordEventsBlocking(_ events: [ProviderEvent], now: Timestamp, deferringSync: Bool) throws
        -> RecordedEvents
    {
        try inner.recordEventsBlocking(events, now: now, deferringSync: deferringSync)
    }
    var canDeferSync: Bool { true }
    func syncCommits() throws { throw Failure() }
}
