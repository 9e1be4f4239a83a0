import Foundation
import Logging
import SeqbridgeCore
import SeqbridgeStore
import SeqbridgeWebhooks

/// Several requests' events written in one transaction: while one commit is
/// under way, new requests queue and the next commit takes them all. Each
/// caller is answered only once its events are durable.
public actor GroupCommit {
    private let store: any Store
    private let onTransitions: @Sendable ([StatusChange: Int]) -> Void
    private var queue:
        [(events: [ProviderEvent], now: Timestamp, reply: CheckedContinuation<[EventDisposition], any Error>)] = []
    private var writing = false

    /// `onTransitions` hears the status changes each commit caused (for metrics).
    public init(store: any Store, onTransitions: @escaping @Sendable ([StatusChange: Int]) -> Void = { _ in }) {
        self.store = store
        self.onTransitions = onTransitions
    }

    public func submit(_ events: [ProviderEvent], now: Timestamp) async throws -> [EventDisposition] {
        try await withCheckedThrowingContinuation { reply in
            queue.append((events, now, reply))
            if !writing {
                writing = true
                Task { await drain() }
            }
        }
    }

    private func drain() async {
        while !queue.isEmpty {
            let batch = queue
            queue = []
            let now = batch.map(\.now).max() ?? Timestamp(millisecondsSinceEpoch: 0)
            do {
                let recorded = try await store.recordEvents(batch.flatMap(\.events), now: now)
                let dispositions = recorded.dispositions
                onTransitions(recorded.transitions)
                var offset = 0
                for entry in batch {
                    entry.reply.resume(returning: Array(dispositions[offset..<offset + entry.events.count]))
                    offset += entry.events.count
                }
            } catch {
                // One request's events must not fail the others it was batched with: each alone.
                for entry in batch {
                    do {
                        let recorded = try await store.recordEvents(entry.events, now: entry.now)
                        onTransitions(recorded.transitions)
                        entry.reply.resume(returning: recorded.dispositions)
                    } catch {
                        entry.reply.resume(throwing: error)
                    }
                }
            }
        }
        writing = false
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
    /// `ingest`: the webhook path on a saved payload. With `dryRun` nothing is
    /// stored and the normalized events are returned for printing.
    public func ingest(
        file: String, source: String, contentType: String? = nil, dryRun: Bool, now: Timestamp
    ) async throws -> (
        events: [ProviderEvent], summary: IntakeSummary?
    ) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw AppError.unreadableFile(file, why: Self.unreadableReason(file))
        }
        let decoded = try Providers.decode(
            provider: source,
            WebhookRequest(
                body: Array(data), headers: contentType.map { ["content-type": $0] } ?? [:], receivedAt: now))
        if dryRun { return (decoded.events, nil) }
        var summary = IntakeSummary()
        summary.count(try await store.recordProviderEvents(decoded.events, now: now))
        return (decoded.events, summary)
    }

    /// One line of `ingest --json`.
    public static func eventJSON(_ event: ProviderEvent) -> String {
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
        if let malformed = event.malformed { add("malformed", malformed) }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
