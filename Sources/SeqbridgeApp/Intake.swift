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
public final class GroupCommit: @unchecked Sendable {
    private struct Entry {
        var events: [ProviderEvent]
        var now: Timestamp
        var reply: CheckedContinuation<[EventDisposition], any Error>
    }

    /// What the writer and the requests share; the writer thread holds it, not the `GroupCommit`.
    private final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var entries: [Entry] = []
        var writing = false
        var stopped = false
    }

    private let store: any Store
    private let blocking: (any BlockingEventRecorder)?
    private let onTransitions: @Sendable ([StatusChange: Int]) -> Void
    private let queue = Queue()

    /// `onTransitions` hears the status changes each commit caused (for metrics).
    public init(store: any Store, onTransitions: @escaping @Sendable ([StatusChange: Int]) -> Void = { _ in }) {
        self.store = store
        self.onTransitions = onTransitions
        blocking = store as? any BlockingEventRecorder
        if let blocking {
            let queue = queue
            let thread = Thread { Self.writeLoop(queue, blocking, onTransitions) }
            thread.name = "seqbridge-group-commit"
            thread.start()
        }
    }

    deinit {
        queue.condition.withLock {
            queue.stopped = true
            queue.condition.signal()
        }
    }

    public func submit(_ events: [ProviderEvent], now: Timestamp) async throws -> [EventDisposition] {
        try await withCheckedThrowingContinuation { reply in
            let start = queue.condition.withLock {
                queue.entries.append(Entry(events: events, now: now, reply: reply))
                if blocking != nil {
                    queue.condition.signal()
                    return false
                }
                guard !queue.writing else { return false }
                queue.writing = true
                return true
            }
            if start { Task { await drain() } }
        }
    }

    /// The writer thread: waits for requests, writes all that queued, answers them.
    private static func writeLoop(
        _ queue: Queue, _ store: any BlockingEventRecorder,
        _ onTransitions: @Sendable ([StatusChange: Int]) -> Void
    ) {
        queue.condition.lock()
        while true {
            while queue.entries.isEmpty && !queue.stopped { queue.condition.wait() }
            if queue.entries.isEmpty { break }
            let batch = queue.entries
            queue.entries = []
            queue.condition.unlock()
            answer(batch, onTransitions) { events, now in try store.recordEventsBlocking(events, now: now) }
            queue.condition.lock()
        }
        queue.condition.unlock()
    }

    /// Writes the batch in one transaction; if that fails, each request alone,
    /// so that one request's events never fail the others they were batched with.
    private static func answer(
        _ batch: [Entry], _ onTransitions: @Sendable ([StatusChange: Int]) -> Void,
        record: ([ProviderEvent], Timestamp) throws -> RecordedEvents
    ) {
        do {
            deliver(try record(batch.flatMap(\.events), latest(batch)), to: batch, onTransitions)
        } catch {
            for entry in batch {
                settle(entry, Result { try record(entry.events, entry.now) }, onTransitions)
            }
        }
    }

    /// The batch's time: its latest request's.
    private static func latest(_ batch: [Entry]) -> Timestamp {
        batch.map(\.now).max() ?? Timestamp(millisecondsSinceEpoch: 0)
    }

    /// Answers each request of a batch with its own events' dispositions.
    private static func deliver(
        _ recorded: RecordedEvents, to batch: [Entry], _ onTransitions: @Sendable ([StatusChange: Int]) -> Void
    ) {
        onTransitions(recorded.transitions)
        var offset = 0
        for entry in batch {
            entry.reply.resume(returning: Array(recorded.dispositions[offset..<offset + entry.events.count]))
            offset += entry.events.count
        }
    }

    /// Answers one request written alone.
    private static func settle(
        _ entry: Entry, _ result: Result<RecordedEvents, any Error>,
        _ onTransitions: @Sendable ([StatusChange: Int]) -> Void
    ) {
        if case .success(let recorded) = result { onTransitions(recorded.transitions) }
        entry.reply.resume(with: result.map(\.dispositions))
    }

    /// Everything queued, or nothing, in which case the writing task stops.
    private func take() -> [Entry] {
        queue.condition.withLock {
            let batch = queue.entries
            queue.entries = []
            if batch.isEmpty { queue.writing = false }
            return batch
        }
    }

    /// The writing task, for stores that only record asynchronously.
    private func drain() async {
        while case let batch = take(), !batch.isEmpty {
            do {
                Self.deliver(
                    try await store.recordEvents(batch.flatMap(\.events), now: Self.latest(batch)), to: batch,
                    onTransitions)
            } catch {
                for entry in batch {
                    let result: Result<RecordedEvents, any Error>
                    do {
                        result = .success(try await store.recordEvents(entry.events, now: entry.now))
                    } catch {
                        result = .failure(error)
                    }
                    Self.settle(entry, result, onTransitions)
                }
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
