import Foundation
import SeqbridgeCore
import SeqbridgeStore
import Testing

@testable import SeqbridgeWebhooks

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/webhooks")

func fixture(_ provider: String, _ name: String) throws -> [UInt8] {
    Array(try Data(contentsOf: fixtures.appendingPathComponent("\(provider)/\(name)")))
}

func decode(_ provider: String, _ name: String, headers: [String: String] = [:]) throws -> DecodedWebhook {
    try Providers.decode(
        provider: provider,
        WebhookRequest(
            body: try fixture(provider, name), headers: headers, receivedAt: Timestamp(iso8601: "2026-11-02T12:00:00Z")!
        ))
}

struct Expectation: Sendable, CustomStringConvertible {
    var provider: String
    var file: String
    var type: EventType
    var bounceClass: BounceClass?

    init(_ provider: String, _ file: String, _ type: EventType, _ bounceClass: BounceClass? = nil) {
        self.provider = provider
        self.file = file
        self.type = type
        self.bounceClass = bounceClass
    }

    var description: String { "\(provider)/\(file)" }
}

let singleEventFixtures: [Expectation] = {
    var list: [Expectation] = []
    let json = ["sendgrid", "mailgun", "postmark", "ses", "sparkpost", "brevo", "mailjet", "resend"]
    for provider in json + ["mandrill"] {
        let ext = provider == "mandrill" ? "txt" : "json"
        list.append(Expectation(provider, "delivered.\(ext)", .delivered))
        list.append(Expectation(provider, "bounce-hard.\(ext)", .bounced, .hard))
        list.append(Expectation(provider, "complaint.\(ext)", .complained))
        list.append(Expectation(provider, "open.\(ext)", .opened))
        list.append(Expectation(provider, "unknown-kind.\(ext)", .unknown))
    }
    for provider in ["sendgrid", "mailgun", "resend"] {
        list.append(Expectation(provider, "bounce-soft.json", .deferred))
    }
    for provider in ["postmark", "ses", "sparkpost", "brevo", "mailjet"] {
        list.append(Expectation(provider, "bounce-soft.json", .bounced, .soft))
    }
    list.append(Expectation("mandrill", "bounce-soft.txt", .bounced, .soft))
    for provider in ["sendgrid", "mailgun", "ses", "sparkpost", "brevo", "mailjet", "resend"] {
        list.append(Expectation(provider, "rejected.json", .rejected))
    }
    list.append(Expectation("mandrill", "rejected.txt", .rejected))
    for provider in ["sendgrid", "mailgun", "postmark", "ses", "sparkpost", "brevo", "mailjet"] {
        list.append(Expectation(provider, "unsubscribe.json", .unsubscribed))
    }
    list.append(Expectation("mandrill", "unsubscribe.txt", .unsubscribed))
    list += [
        Expectation("sendgrid", "bounce-blocked.json", .bounced, .soft),
        Expectation("ses", "event-publishing-delay.json", .deferred),
        Expectation("ses", "event-publishing-delivery.json", .delivered),
        Expectation("ses", "notification-bounce.json", .bounced, .hard),
        Expectation("ses", "notification-complaint.json", .complained),
        Expectation("sparkpost", "delay.json", .deferred),
        Expectation("brevo", "deferred.json", .deferred),
        Expectation("mandrill", "deferred.txt", .deferred),
        Expectation("mandrill", "sent.txt", .sent),
        Expectation("postmark", "auto-reply.json", .autoReplied),
        Expectation("resend", "click.json", .clicked),
    ]
    return list
}()

@Suite("Provider decoders")
struct DecoderTests {
    @Test(arguments: singleEventFixtures)
    func fixtureNormalizes(_ expected: Expectation) throws {
        let decoded = try decode(expected.provider, expected.file, headers: ["svix-id": "msg_fixture"])
        #expect(decoded.events.count == 1, "\(decoded.events)")
        let event = try #require(decoded.events.first)
        #expect(event.type == expected.type)
        #expect(event.bounceClass == expected.bounceClass)
        #expect(event.malformed == nil)
        #expect(event.source == expected.provider)
        if expected.type != .unknown || expected.provider != "mandrill" {
            #expect(event.recipient == "ana.lima@example.com")
            // Every event can be matched: our Message-ID, our token, or the provider's message id.
            #expect(
                event.messageIDs.contains("sb.example0001@brightside.example") || event.token == "sbt_fixture0001"
                    || event.providerMessageID != nil)
        }
        #expect(event.timestamp > Timestamp(iso8601: "2026-11-02T10:00:00Z")!)
        #expect(event.timestamp <= Timestamp(iso8601: "2026-11-03T00:00:00Z")!)
        // Decoding the same bytes again gives the same identity (retries deduplicate).
        #expect(
            try decode(expected.provider, expected.file, headers: ["svix-id": "msg_fixture"]).events.first?.key
                == event.key)
    }

    @Test(arguments: [
        ("sendgrid", "batch.json", 4), ("sparkpost", "batch.json", 4), ("mandrill", "batch.txt", 4),
        ("brevo", "batch.json", 4), ("mailjet", "batch.json", 3),
    ])
    func batchesGiveOneEventEach(provider: String, file: String, count: Int) throws {
        let events = try decode(provider, file).events
        #expect(events.count == count)
        #expect(Set(events.map(\.key)).count == count, "every event keeps its own identity")
    }

    @Test func controlMessagesCarryNoEvents() throws {
        let confirmation = try decode("ses", "subscription-confirmation.json")
        #expect(confirmation.events.isEmpty)
        guard case .subscriptionConfirmation(let url, _) = confirmation.control else {
            Issue.record("no subscription confirmation")
            return
        }
        #expect(url.hasPrefix("https://sns."))
        #expect(try decode("ses", "unsubscribe-confirmation.json").control != nil)
        #expect(try decode("sparkpost", "ping.json").events.isEmpty)
    }

    @Test func hardBounceCarriesTheDiagnostic() throws {
        let event = try #require(try decode("sendgrid", "bounce-hard.json").events.first)
        #expect(event.detail?.contains("5.1.1") == true)
        let ses = try #require(try decode("ses", "notification-bounce.json").events.first)
        #expect(ses.detail?.contains("550 5.1.1") == true)
        #expect(ses.messageIDs.contains("sb.example0001@brightside.example") || ses.providerMessageID != nil)
    }

    @Test func unreadableBodiesAreRefused() {
        let request = WebhookRequest(
            body: Array("not json".utf8), headers: [:], receivedAt: Timestamp(millisecondsSinceEpoch: 0))
        for provider in Providers.names where provider != "mandrill" {
            #expect(throws: WebhookError.self) { try Providers.decode(provider: provider, request) }
        }
        #expect(throws: WebhookError.unknownProvider("nope")) { try Providers.decode(provider: "nope", request) }
    }

    @Test func badEventsInABatchAreMalformedAndTheRestGoThrough() throws {
        let body =
            #"[{"type":"delivered","message_id":"<a@b.example>","recipient":"x@example.com","timestamp":"2026-11-02T10:00:00Z"},{"type":"exploded","timestamp":1},{"message_id":"x"},"text"]"#
        let events = try Providers.decode(
            provider: "generic",
            WebhookRequest(body: Array(body.utf8), headers: [:], receivedAt: Timestamp(millisecondsSinceEpoch: 0))
        ).events
        #expect(events.count == 4)
        #expect(events[0].malformed == nil)
        #expect(events[0].messageIDs == ["a@b.example"])
        #expect(events[1].malformed?.contains("exploded") == true)
        #expect(events[2].malformed == "it has no type")
        #expect(events[3].malformed == "not a JSON object")
    }
}
