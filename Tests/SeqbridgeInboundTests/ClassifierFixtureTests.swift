import Foundation
import SeqbridgeCore
import SeqbridgeInbound
import SeqbridgeStore
import Testing

let fixtureRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

/// One message of `Fixtures/email/manifest.json` and what it must classify as.
struct EmailFixture: Decodable, Sendable, CustomTestStringConvertible {
    struct Expected: Decodable, Sendable {
        var type: String
        var recipient: String?
        var bounce_class: String?
        var reason: String?
        var status: String?
    }
    var file: String
    var family: String
    var `class`: String
    var events: [Expected]
    var message_id: String?
    var token: String?

    var testDescription: String { file }

    static let all: [EmailFixture] = {
        let data = try! Data(contentsOf: fixtureRoot.appendingPathComponent("email/manifest.json"))
        return try! JSONDecoder().decode([EmailFixture].self, from: data)
    }()

    var bytes: [UInt8] { Array(try! Data(contentsOf: fixtureRoot.appendingPathComponent("email/\(file)"))) }
}

let receivedAt = Timestamp(millisecondsSinceEpoch: 1_793_613_600_000)

@Suite struct ClassifierFixtureTests {
    static let kinds: [String: InboundKind] = [
        "bounce": .deliveryReport, "delay": .deliveryReport, "complaint": .complaint, "unsubscribe": .unsubscribe,
        "auto_reply": .autoReply,
        "reply": .reply, "other": .other,
    ]

    @Test(arguments: EmailFixture.all)
    func classifiesAsExpected(_ fixture: EmailFixture) throws {
        let result = MailClassifier.classify(fixture.bytes, source: "test", receivedAt: receivedAt)
        #expect(result.kind == Self.kinds[fixture.class])
        if fixture.class == "other" {
            #expect(result.events.allSatisfy { $0.type == .unknown })
            return
        }
        #expect(result.events.count == fixture.events.count)
        for expected in fixture.events {
            let event = try #require(
                result.events.first { expected.recipient == nil || $0.recipient == expected.recipient },
                "no event for \(expected.recipient ?? "-")")
            #expect(event.type.rawValue == expected.type)
            if let bounceClass = expected.bounce_class { #expect(event.bounceClass?.rawValue == bounceClass) }
            if expected.type == "bounced" {
                if let reason = expected.reason { #expect(event.delivery?.reason == reason) }
            }
            if let status = expected.status, ["bounced", "deferred"].contains(expected.type) {
                #expect(event.delivery?.status == status)
            }
        }
        if let id = fixture.message_id, result.events.count > 1 {
            // Several recipients: only the returned message's own recipient carries its id.
            #expect(result.events.filter { $0.messageIDs.contains(id) }.count <= 1)
        } else if let id = fixture.message_id {
            #expect(result.events.allSatisfy { $0.messageIDs.contains(id) })
        } else if let token = fixture.token {
            #expect(result.events.allSatisfy { $0.token == token })
        }
    }

    /// No auto-reply and no delay warning may ever stop a sequence.
    @Test func autoRepliesAndDelaysNeverStopASequence() {
        for fixture in EmailFixture.all where fixture.class == "auto_reply" || fixture.class == "delay" {
            let result = MailClassifier.classify(fixture.bytes, source: "test", receivedAt: receivedAt)
            for event in result.events {
                #expect(
                    ![.replied, .bounced, .complained, .rejected, .unsubscribed].contains(event.type), "\(fixture.file)"
                )
            }
        }
    }

    /// The same message with CRLF, LF or bare CR line ends classifies the same way.
    @Test func lineEndsDoNotChangeTheAnswer() {
        for fixture in EmailFixture.all where fixture.class != "other" {
            let lf = fixture.bytes.split(separator: 13, omittingEmptySubsequences: false).joined().map { $0 }
            var variants: [[UInt8]] = [lf]
            variants.append(lf.flatMap { $0 == 10 ? [13, 10] : [$0] })
            variants.append(lf.map { $0 == 10 ? 13 : $0 })
            let answers = variants.map { bytes in
                MailClassifier.classify(bytes, source: "test", receivedAt: receivedAt).events.map {
                    "\($0.type) \($0.recipient ?? "-") \($0.bounceClass?.rawValue ?? "-")"
                }
            }
            #expect(answers[0] == answers[1] && answers[1] == answers[2], "\(fixture.file)")
        }
    }

    @Test func aDeliveryReportRetriedIsTheSameEvents() {
        let fixture = EmailFixture.all.first { $0.class == "bounce" }!
        let first = MailClassifier.classify(fixture.bytes, source: "test", receivedAt: receivedAt)
        let again = MailClassifier.classify(
            fixture.bytes, source: "test",
            receivedAt: Timestamp(millisecondsSinceEpoch: receivedAt.millisecondsSinceEpoch + 60_000))
        #expect(first.events.map(\.eventID) == again.events.map(\.eventID))
    }
}
