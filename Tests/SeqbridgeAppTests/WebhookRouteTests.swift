import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SeqbridgeCore
import SeqbridgeStore
import SeqbridgeWebhooks
import Testing

@testable import SeqbridgeApp
@testable import SeqbridgeHTTP

let fixtureRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/webhooks")

func fixtureBody(_ path: String) throws -> String {
    try String(contentsOf: fixtureRoot.appendingPathComponent(path), encoding: .utf8)
}

/// The fixed clock of the route tests: a few minutes after the fixtures' events.
let routeNow = at("2026-11-02T10:40:00Z")

extension Harness {
    /// A harness with the fixture influencer enrolled and step 1 sent, so fixtures match by token.
    static func withSentFixture() async throws -> Harness {
        let harness = try Harness()
        try await harness.seed(twoSteps)
        _ = try await harness.engine.store.enrollBatch(
            [(InfluencerFields(email: "ana.lima@example.com", name: "Ana Lima", handle: "@ana"), "sbt_fixture0001")],
            sequence: "launch", force: false, now: at("2026-11-02T09:00:00Z"))
        _ = try await harness.engine.tick(now: at("2026-11-02T10:00:00Z"))
        return harness
    }

    func app(
        _ secrets: WebhookSecrets = WebhookSecrets(), maxBody: Int = 5 << 20, metrics: ServiceMetrics = ServiceMetrics()
    )
        -> some ApplicationProtocol
    {
        Application(
            router: buildRouter(
                engine: engine, webhooks: WebhookSettings(secrets: secrets, maxBodyBytes: maxBody), metrics: metrics,
                clock: { routeNow }))
    }
}

func post(
    _ client: some TestClientProtocol, _ provider: String, _ body: String, contentType: String = "application/json",
    headers extra: [(String, String)] = []
) async throws -> (status: Int, body: String) {
    var headers: HTTPFields = [.contentType: contentType]
    for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
    return try await client.execute(
        uri: "/webhooks/\(provider)", method: .post, headers: headers, body: ByteBuffer(string: body)
    ) { response in (Int(response.status.code), String(buffer: response.body)) }
}

@Suite("Webhook routes")
struct WebhookRouteTests {
    @Test func everyProviderFixtureIsStoredAndApplied() async throws {
        let harness = try await Harness.withSentFixture()
        try await harness.app().test(.router) { client in
            for provider in ["sendgrid", "mailgun", "postmark", "sparkpost", "brevo", "mailjet", "resend"] {
                let result = try await post(
                    client, provider, try fixtureBody("\(provider)/delivered.json"), headers: [("svix-id", "msg_1")])
                #expect(result.status == 200, "\(provider): \(result.body)")
                #expect(result.body.contains(#""applied":1"#), "\(provider): \(result.body)")
            }
            let mandrill = try await post(
                client, "mandrill", try fixtureBody("mandrill/delivered.txt"),
                contentType: "application/x-www-form-urlencoded")
            #expect(mandrill.status == 200)
            let ses = try await post(
                client, "ses", try fixtureBody("ses/event-publishing-delivery.json"), contentType: "text/plain")
            #expect(ses.status == 200, "\(ses.body)")
        }
        let row = try #require(try await harness.rows().first)
        #expect(row.status == .inProgress)
    }

    @Test func duplicatesAndBatchesAreCounted() async throws {
        let harness = try await Harness.withSentFixture()
        try await harness.app().test(.router) { client in
            let batch = try fixtureBody("sendgrid/batch.json")
            let first = try await post(client, "sendgrid", batch)
            #expect(first.body.contains(#""received":4"#))
            #expect(first.body.contains(#""applied":4"#))
            let again = try await post(client, "sendgrid", batch)
            #expect(again.status == 200)
            #expect(again.body.contains(#""duplicates":4"#))
            let bounce = try await post(client, "sendgrid", try fixtureBody("sendgrid/bounce-hard.json"))
            #expect(bounce.body.contains(#""applied":1"#))
        }
        let history = try #require(try await harness.engine.store.history(email: "ana.lima@example.com"))
        #expect(history.enrollments[0].row.status == .error)
        #expect(history.enrollments[0].row.detail?.contains("5.1.1") == true)
        #expect(history.enrollments[0].events.filter { $0.source == "sendgrid" }.count == 5)
    }

    @Test func refusalsHaveTheirStatus() async throws {
        let harness = try await Harness.withSentFixture()
        var secrets = WebhookSecrets()
        secrets.basicAuth["postmark"] = "hook:s3cret"
        try await harness.app(secrets, maxBody: 2_000).test(.router) { client in
            #expect(try await post(client, "nope", "{}").status == 404)
            #expect(try await post(client, "generic", "{not json").status == 400)
            #expect(try await post(client, "generic", "{}", contentType: "text/html").status == 415)
            #expect(try await post(client, "generic", String(repeating: " ", count: 3_000)).status == 413)
            let body = try fixtureBody("postmark/delivered.json")
            #expect(try await post(client, "postmark", body).status == 401)
            let wrong = try await post(
                client, "postmark", body,
                headers: [("Authorization", "Basic " + Data("hook:wrong".utf8).base64EncodedString())])
            #expect(wrong.status == 401)
            let right = try await post(
                client, "postmark", body,
                headers: [("Authorization", "Basic " + Data("hook:s3cret".utf8).base64EncodedString())])
            #expect(right.status == 200)
        }
        // Nothing refused was stored.
        let events = try #require(
            try await harness.engine.store.history(email: "ana.lima@example.com")?.enrollments[0].events)
        #expect(events.filter { $0.source == "postmark" }.count == 1)
    }

    @Test func mailgunSignatureAndStaleTimestamps() async throws {
        let harness = try await Harness.withSentFixture()
        var secrets = WebhookSecrets()
        secrets.mailgunSigningKey = "key-mailgun"
        @Sendable func signed(timestamp: String, key: String) throws -> String {
            var body =
                try JSONSerialization.jsonObject(with: Data(try fixtureBody("mailgun/delivered.json").utf8))
                as! [String: Any]
            var signature = body["signature"] as! [String: Any]
            let token = signature["token"] as! String
            let mac = HMAC<SHA256>.authenticationCode(
                for: Data((timestamp + token).utf8), using: SymmetricKey(data: Data(key.utf8)))
            signature["timestamp"] = timestamp
            signature["signature"] = mac.map { String(format: "%02x", $0) }.joined()
            body["signature"] = signature
            return String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        }
        let now = String(routeNow.millisecondsSinceEpoch / 1000)
        try await harness.app(secrets).test(.router) { client in
            #expect(try await post(client, "mailgun", try signed(timestamp: now, key: "key-mailgun")).status == 200)
            #expect(try await post(client, "mailgun", try signed(timestamp: now, key: "other")).status == 401)
            let stale = String(routeNow.millisecondsSinceEpoch / 1000 - 3_600)
            let refused = try await post(client, "mailgun", try signed(timestamp: stale, key: "key-mailgun"))
            #expect(refused.status == 401)
            #expect(refused.body.contains("stale"))
        }
    }

    @Test func sendgridECDSASignature() async throws {
        let harness = try await Harness.withSentFixture()
        let key = P256.Signing.PrivateKey()
        var secrets = WebhookSecrets()
        secrets.sendgridPublicKey = key.publicKey.derRepresentation.base64EncodedString()
        let body = try fixtureBody("sendgrid/delivered.json")
        let timestamp = String(routeNow.millisecondsSinceEpoch / 1000)
        let signature = try key.signature(for: Data(timestamp.utf8) + Data(body.utf8)).derRepresentation
            .base64EncodedString()
        try await harness.app(secrets).test(.router) { client in
            let headers = [
                ("X-Twilio-Email-Event-Webhook-Signature", signature),
                ("X-Twilio-Email-Event-Webhook-Timestamp", timestamp),
            ]
            let accepted = try await post(client, "sendgrid", body, headers: headers)
            #expect(accepted.status == 200)
            let tampered = try await post(client, "sendgrid", body + " ", headers: headers)
            #expect(tampered.status == 401)
            #expect(try await post(client, "sendgrid", body).status == 401)
        }
    }

    @Test func svixAndMandrillSignatures() async throws {
        let harness = try await Harness.withSentFixture()
        let secretBytes = Data((0..<24).map { UInt8($0) })
        var secrets = WebhookSecrets()
        secrets.resendSecret = "whsec_" + secretBytes.base64EncodedString()
        secrets.mandrillKey = "mandrill-key"
        secrets.mandrillURL = "https://hooks.brightside.example/webhooks/mandrill"
        let resend = try fixtureBody("resend/delivered.json")
        let timestamp = String(routeNow.millisecondsSinceEpoch / 1000)
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("msg_9.\(timestamp).".utf8) + Data(resend.utf8), using: SymmetricKey(data: secretBytes))
        let svix = "v1,bm90LXRoaXM= v1," + Data(mac).base64EncodedString()
        let mandrill = try fixtureBody("mandrill/delivered.txt")
        let events = mandrill.split(separator: "=", maxSplits: 1)[1].replacingOccurrences(of: "+", with: " ")
            .removingPercentEncoding!
        let mandrillMAC = HMAC<Insecure.SHA1>.authenticationCode(
            for: Data((secrets.mandrillURL! + "mandrill_events" + events).utf8),
            using: SymmetricKey(data: Data("mandrill-key".utf8)))
        try await harness.app(secrets).test(.router) { client in
            let good = [("svix-id", "msg_9"), ("svix-timestamp", timestamp), ("svix-signature", svix)]
            let accepted = try await post(client, "resend", resend, headers: good)
            #expect(accepted.status == 200)
            let stale = [("svix-id", "msg_9"), ("svix-timestamp", "1000"), ("svix-signature", svix)]
            let refused = try await post(client, "resend", resend, headers: stale)
            #expect(refused.status == 401)
            let form = "application/x-www-form-urlencoded"
            let signed = try await post(
                client, "mandrill", mandrill, contentType: form,
                headers: [("X-Mandrill-Signature", Data(mandrillMAC).base64EncodedString())])
            #expect(signed.status == 200)
            let forged = try await post(
                client, "mandrill", mandrill, contentType: form, headers: [("X-Mandrill-Signature", "bad")])
            #expect(forged.status == 401)
        }
    }

    @Test func storageFailureAnswers503AndMetricsCount() async throws {
        let harness = try await Harness.withSentFixture()
        let metrics = ServiceMetrics()
        let broken = Engine(
            store: BrokenEventStore(inner: harness.engine.store), ids: SequentialIdentifiers(),
            transports: harness.engine.transports)
        let app = Application(
            router: buildRouter(engine: broken, webhooks: WebhookSettings(), metrics: metrics, clock: { routeNow }))
        try await app.test(.router) { client in
            let result = try await post(client, "sendgrid", try fixtureBody("sendgrid/delivered.json"))
            #expect(result.status == 503)
        }
        try await harness.app(metrics: metrics).test(.router) { client in
            #expect(try await post(client, "sendgrid", try fixtureBody("sendgrid/batch.json")).status == 200)
            let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(text.contains(#"seqbridge_webhook_requests_total{provider="sendgrid",outcome="unavailable"} 1"#))
            #expect(text.contains(#"seqbridge_webhook_requests_total{provider="sendgrid",outcome="ok"} 1"#))
            #expect(text.contains(#"seqbridge_event_dispositions_total{disposition="applied"} 4"#))
            let bounce = try await post(client, "sendgrid", try fixtureBody("sendgrid/bounce-hard.json"))
            #expect(bounce.status == 200)
            let after = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(
                after.contains(#"seqbridge_status_transitions_total{from="in_progress",to="error",reason="bounced"} 1"#)
            )
        }
    }
}

/// A real store whose event writes fail, as a full disk would.
/// A store whose reported events fail to record, everything else going to
/// `inner`; with `recordsEvents` they are recorded too, asynchronously only
/// (it is no `BlockingEventRecorder`), for the group commit's task path.
struct BrokenEventStore: Store {
    let inner: any Store
    var recordsEvents = false
    struct Failure: Error {}

    func recordEvents(_ events: [ProviderEvent], now: Timestamp) async throws -> RecordedEvents {
        guard recordsEvents else { throw Failure() }
        return try await inner.recordEvents(events, now: now)
    }
    func retryUnmatched(now: Timestamp) async throws -> (applied: Int, unmatched: Int) { throw Failure() }
    func matchMessages(_ events: [ProviderEvent]) async throws -> [MessageMatch?] { throw Failure() }
    func noteMailboxFailure(named name: String, detail: String, now: Timestamp) async throws -> Timestamp {
        throw Failure()
    }
    func clearMailboxFailure(named name: String) async throws { throw Failure() }
    func mailboxSendStats(mailboxID: Int64, since: Timestamp) async throws -> MailboxSendStats { throw Failure() }
    func postponeSteps(_ items: [(enrollmentID: Int64, until: Timestamp)], reason: String) async throws {
        throw Failure()
    }
    func addMailbox(_ mailbox: MailboxDefinition, now: Timestamp) async throws {
        try await inner.addMailbox(mailbox, now: now)
    }
    func mailboxes() async throws -> [MailboxRecord] { try await inner.mailboxes() }
    func disconnectMailbox(named name: String, detail: String, now: Timestamp) async throws -> Int {
        try await inner.disconnectMailbox(named: name, detail: detail, now: now)
    }
    func reconnectMailbox(named name: String, now: Timestamp) async throws {
        try await inner.reconnectMailbox(named: name, now: now)
    }
    func applySequence(_ sequence: SequenceDefinition, now: Timestamp) async throws -> SequenceApplyResult {
        try await inner.applySequence(sequence, now: now)
    }
    func sequences() async throws -> [SequenceSummary] { try await inner.sequences() }
    func enroll(_ influencer: InfluencerFields, sequence: String, token: String, force: Bool, now: Timestamp)
        async throws
    {
        try await inner.enroll(influencer, sequence: sequence, token: token, force: force, now: now)
    }
    func enrollBatch(
        _ influencers: [(fields: InfluencerFields, token: String)], sequence: String, force: Bool, now: Timestamp
    )
        async throws -> [StoreError?]
    { try await inner.enrollBatch(influencers, sequence: sequence, force: force, now: now) }
    func importRows(
        _ options: ImportOptions, now: Timestamp, nextBatch: @escaping @Sendable () throws -> [ImportRow]?,
        report: @escaping @Sendable (_ rows: [ImportRow], _ outcomes: [ImportOutcome]) throws -> Void
    ) async throws { try await inner.importRows(options, now: now, nextBatch: nextBatch, report: report) }
    func unenroll(email: String, sequence: String, now: Timestamp) async throws {
        try await inner.unenroll(email: email, sequence: sequence, now: now)
    }
    func reenroll(email: String, sequence: String, token: String, force: Bool, now: Timestamp) async throws {
        try await inner.reenroll(email: email, sequence: sequence, token: token, force: force, now: now)
    }
    func reenrollAll(sequence: String, status: Status, now: Timestamp, makeToken: @Sendable () -> String) async throws
        -> BulkReenrollResult
    { try await inner.reenrollAll(sequence: sequence, status: status, now: now, makeToken: makeToken) }
    func changeEmail(from old: String, to new: String, now: Timestamp) async throws {
        try await inner.changeEmail(from: old, to: new, now: now)
    }
    func suppress(email: String, reason: SuppressionReason, detail: String?, now: Timestamp) async throws {
        try await inner.suppress(email: email, reason: reason, detail: detail, now: now)
    }
    func unsuppress(email: String) async throws -> Bool { try await inner.unsuppress(email: email) }
    func suppressions() async throws -> [SuppressionEntry] { try await inner.suppressions() }
    func dueSteps(now: Timestamp, after cursor: DueCursor?, limit: Int) async throws -> [DueStep] {
        try await inner.dueSteps(now: now, after: cursor, limit: limit)
    }
    func claim(_ requests: [ClaimRequest], now: Timestamp) async throws -> [ClaimRequest] {
        try await inner.claim(requests, now: now)
    }
    func recordSends(_ reports: [SendReport], now: Timestamp) async throws {
        try await inner.recordSends(reports, now: now)
    }
    func recordRenderFailures(_ failures: [RenderFailure], now: Timestamp) async throws {
        try await inner.recordRenderFailures(failures, now: now)
    }
    func statusCounts(sequence: String?) async throws -> [StatusCount] {
        try await inner.statusCounts(sequence: sequence)
    }
    func history(email: String) async throws -> InfluencerHistory? { try await inner.history(email: email) }
    func exportRows(_ filter: ExportFilter, _ row: @Sendable (ExportRow) throws -> Void) async throws {
        try await inner.exportRows(filter, row)
    }
    func unconfirmedCount() async throws -> Int { try await inner.unconfirmedCount() }
    func ping() async throws { try await inner.ping() }
}
