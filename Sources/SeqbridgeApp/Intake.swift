import Foundation
import Logging
import SeqbridgeCore
import SeqbridgeStore
import SeqbridgeWebhooks

/// Several requests' events written in one transaction: while one commit is
/// under way, new requests queue and the next commit takes them all. Each
/// caller is answered only once its events are durable.
///
/// A request adds itself to the queue under a lock, without a hop to another
/// executor. With a store that records on the calling thread (SQLite), one
/// thread of our own takes the queue and writes; otherwise one task writes for
/// as long as requests keep coming.
///
/// When that store can sync its commits apart from them, a second thread of
/// ours waits for the disk: the writer commits the next batch while the last
/// one is being synced, and one sync makes every batch committed before it
/// durable. Requests are answered after that sync, not after their commit.
public final class GroupCommit: @unchecked Sendable {
    private struct Entry {
        var events: [ProviderEvent]
        var now: Timestamp
        var reply: CheckedContinuation<[EventDisposition], any Error>
    }

    /// The answers a commit decided, and the status changes it caused, to be
    /// given once the commit is durable.
    private struct Written {
        var replies:
            [(to: CheckedContinuation<[EventDisposition], any Error>, result: Result<[EventDisposition], any Error>)] =
                []
        var transitions: [[StatusChange: Int]] = []
    }

    /// Work handed from producers to one consumer: a thread that waits for it
    /// (`next`), or a task that drains it while there is any (`put`, `drain`).
    /// The consumer holds it, not the `GroupCommit`.
    private final class Handoff<Item>: @unchecked Sendable {
        private let condition = NSCondition()
        private var items: [Item] = []
        private var draining = false
        private var stopped = false

        /// Adds an item and wakes a waiting thread; true when no task is draining
        /// the items yet and the caller is to start one.
        func put(_ item: Item) -> Bool {
            condition.withLock {
                items.append(item)
                condition.signal()
                defer { draining = true }
                return !draining
            }
        }

        /// Everything put since the last call, waiting for some; nil once stopped and empty.
        func next() -> [Item]? {
            condition.withLock {
                while items.isEmpty && !stopped { condition.wait() }
                return items.isEmpty ? nil : take()
            }
        }

        /// Everything put since the last call, without waiting; none ends the draining.
        func drain() -> [Item] {
            condition.withLock {
                if items.isEmpty { draining = false }
                return take()
            }
        }

        /// Lets a waiting thread finish once the items already put are taken.
        func stop() {
            condition.withLock {
                stopped = true
                condition.signal()
            }
        }

        private func take() -> [Item] {
            defer { items = [] }
            return items
        }
    }

    /// The fewest events a commit carries for its sync to be left to the syncing
    /// thread. A smaller commit syncs on the writer: handing it over costs more
    /// than the overlap gains (measured with `make bench`: single-event posts).
    static let deferredSyncEvents = 32

    private let store: any Store
    private let blocking: (any BlockingEventRecorder)?
    private let onTransitions: @Sendable ([StatusChange: Int]) -> Void
    private let queue = Handoff<Entry>()

    /// `onTransitions` hears the status changes each commit caused (for metrics).
    public convenience init(
        store: any Store, onTransitions: @escaping @Sendable ([StatusChange: Int]) -> Void = { _ in }
    ) {
        self.init(store: store, recorder: store as? any BlockingEventRecorder, onTransitions: onTransitions)
    }

    /// `recorder`, when there is one, writes every batch; `store` otherwise.
    public init(
        store: any Store, recorder: (any BlockingEventRecorder)?,
        onTransitions: @escaping @Sendable ([StatusChange: Int]) -> Void
    ) {
        self.store = store
        self.onTransitions = onTransitions
        blocking = recorder
        if let blocking {
            let queue = queue
            let unsynced = blocking.canDeferSync ? Handoff<Written>() : nil
            let thread = Thread { Self.writeLoop(queue, unsynced, blocking, onTransitions) }
            thread.name = "seqbridge-group-commit"
            thread.start()
            if let unsynced {
                let syncer = Thread { Self.syncLoop(unsynced, blocking, onTransitions) }
                syncer.name = "seqbridge-log-sync"
                syncer.start()
            }
        }
    }

    deinit { queue.stop() }

    public func submit(_ events: [ProviderEvent], now: Timestamp) async throws -> [EventDisposition] {
        try await withCheckedThrowingContinuation { reply in
            if queue.put(Entry(events: events, now: now, reply: reply)), blocking == nil {
                Task { await drain() }
            }
        }
    }

    /// The writer thread: waits for requests and writes all that queued. It
    /// answers them itself, or hands them to the syncing thread.
    private static func writeLoop(
        _ queue: Handoff<Entry>, _ unsynced: Handoff<Written>?, _ store: any BlockingEventRecorder,
        _ onTransitions: @Sendable ([StatusChange: Int]) -> Void
    ) {
        while let batch = queue.next() {
            let deferring = unsynced != nil && batch.reduce(0) { $0 + $1.events.count } >= deferredSyncEvents
            let written = write(batch) { events, now in
                try store.recordEventsBlocking(events, now: now, deferringSync: deferring)
            }
            if deferring, let unsynced {
                _ = unsynced.put(written)
            } else {
                send(written, onTransitions)
            }
        }
        unsynced?.stop()
    }

    /// The syncing thread: one sync for every commit made since the last, then their answers.
    private static func syncLoop(
        _ unsynced: Handoff<Written>, _ store: any BlockingEventRecorder,
        _ onTransitions: @Sendable ([StatusChange: Int]) -> Void
    ) {
        while let pending = unsynced.next() {
            do {
                try store.syncCommits()
                for written in pending { send(written, onTransitions) }
            } catch {
                // Not known to be on disk: the provider is told to retry.
                for written in pending {
                    for reply in written.replies {
                        reply.to.resume(with: reply.result.flatMap { _ in .failure(error) })
                    }
                }
            }
        }
    }

    /// Writes the batch in one transaction; if that fails, each request alone,
    /// so that one request's events never fail the others they were batched with.
    private static func write(
        _ batch: [Entry], record: ([ProviderEvent], Timestamp) throws -> RecordedEvents
    ) -> Written {
        do {
            return split(try record(batch.flatMap(\.events), latest(batch)), over: batch)
        } catch {
            var written = Written()
            for entry in batch { alone(entry, Result { try record(entry.events, entry.now) }, into: &written) }
            return written
        }
    }

    /// The batch's time: its latest request's.
    private static func latest(_ batch: [Entry]) -> Timestamp {
        batch.map(\.now).max() ?? Timestamp(millisecondsSinceEpoch: 0)
    }

    /// Each request of a batch gets its own events' dispositions.
    private static func split(_ recorded: RecordedEvents, over batch: [Entry]) -> Written {
        var written = Written(transitions: [recorded.transitions])
        var offset = 0
        for entry in batch {
            written.replies.append(
                (entry.reply, .success(Array(recorded.dispositions[offset..<offset + entry.events.count]))))
            offset += entry.events.count
        }
        return written
    }

    /// One request written alone.
    private static func alone(_ entry: Entry, _ result: Result<RecordedEvents, any Error>, into written: inout Written)
    {
        if case .success(let recorded) = result { written.transitions.append(recorded.transitions) }
        written.replies.append((entry.reply, result.map(\.dispositions)))
    }

    /// Answers the requests of a durable commit.
    private static func send(_ written: Written, _ onTransitions: @Sendable ([StatusChange: Int]) -> Void) {
        for transitions in written.transitions { onTransitions(transitions) }
        for reply in written.replies { reply.to.resume(with: reply.result) }
    }

    /// The writing task, for stores that only record asynchronously.
    private func drain() async {
        while case let batch = queue.drain(), !batch.isEmpty {
            do {
                Self.send(
                    Self.split(
                        try await store.recordEvents(batch.flatMap(\.events), now: Self.latest(batch)), over: batch),
                    onTransitions)
            } catch {
                var written = Written()
                for entry in batch {
                    let result: Result<RecordedEvents, any Error>
                    do {
                        result = .success(try await store.recordEvents(entry.events, now: entry.now))
                    } catch {
                        result = .failure(error)
                    }
                    Self.alone(entry, result, into: &written)
                }
                Self.send(written, onTransitions)
            }
        }
    }
}

/// Counts of what one request carried.
public struct IntakeSummary: Sendable, Hashable, Codable {
    public var received = 0
    public var applied = 0
    public var duplicates = 0
    public var unmatched = 0
    public var malformed = 0

    public init() {}

    public mutating func count(_ dispositions: [EventDisposition]) {
        received += dispositions.count
        for disposition in dispositions {
            switch disposition {
            case .applied: applied += 1
            case .duplicate: duplicates += 1
            case .unmatched: unmatched += 1
            case .malformed: malformed += 1
            }
        }
    }
}

extension Engine {
    /// Every `ingest --source` name: the webhook providers, then raw mail and delivery reports.
    public static let ingestSources = Providers.names + InboundSources.ingestNames

    /// `ingest`: the listener's path on a saved payload. With `dryRun` nothing is
    /// stored. With `withMatches` the events come back with the message each
    /// matches (otherwise `matches` is empty).
    public func ingest(
        file: String, source: String, contentType: String? = nil, dryRun: Bool, withMatches: Bool = false,
        now: Timestamp
    ) async throws -> (
        events: [ProviderEvent], matches: [MessageMatch?], summary: IntakeSummary?
    ) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw AppError.unreadableFile(file, why: Self.unreadableReason(file))
        }
        let request = WebhookRequest(
            body: Array(data), headers: contentType.map { ["content-type": $0] } ?? [:], receivedAt: now)
        let events: [ProviderEvent]
        switch source {
        case "dsn":
            let looksLikeXML =
                data.first(where: { !($0 == 32 || $0 == 9 || $0 == 10 || $0 == 13) }) == UInt8(ascii: "<")
            events = try InboundSources.decodeReport(request, xml: contentType == nil ? looksLikeXML : nil).webhook
                .events
        case "dsn-xml":
            events = try InboundSources.decodeReport(request, xml: true).webhook.events
        case "raw":
            events = try InboundSources.decode(source: "raw", request).webhook.events
        case _ where source.hasPrefix("inbound-"):
            events = try InboundSources.decode(source: String(source.dropFirst(8)), request).webhook.events
        default:
            events = try Providers.decode(provider: source, request).events
        }
        let matches = withMatches ? try await store.matchMessages(events) : []
        if dryRun { return (events, matches, nil) }
        var summary = IntakeSummary()
        summary.count(try await store.recordProviderEvents(events, now: now))
        return (events, matches, summary)
    }

    /// One line of `ingest --json`.
    public static func eventJSON(_ event: ProviderEvent, match: MessageMatch? = nil) -> String {
        var fields: [String] = []
        func add(_ key: String, _ value: String?) { fields.append("\"\(key)\":" + (value.map(jsonString) ?? "null")) }
        add("type", event.type.rawValue)
        add("recipient", event.recipient)
        fields.append("\"message_ids\":[" + event.messageIDs.map(jsonString).joined(separator: ",") + "]")
        add("event_id", event.eventID)
        add("timestamp", event.timestamp.iso8601)
        add("bounce_class", event.bounceClass?.rawValue)
        add("detail", event.detail)
        add("source", event.source)
        add("token", event.token)
        add("provider_message_id", event.providerMessageID)
        if let delivery = event.delivery {
            add("action", delivery.action)
            add("status", delivery.status)
            add("reason", delivery.reason)
            add("remote_mta", delivery.remoteMTA)
        }
        if let match {
            fields.append(
                "\"matched\":{\"message_id\":\(match.messageID.map(jsonString) ?? "null"),\"email\":\(jsonString(match.email)),"
                    + "\"sequence\":\(jsonString(match.sequence)),\"how\":\(jsonString(match.how))}")
        } else {
            fields.append("\"matched\":null")
        }
        if let malformed = event.malformed { add("malformed", malformed) }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
