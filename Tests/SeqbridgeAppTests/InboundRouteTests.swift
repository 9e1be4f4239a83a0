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

let inboundRoot = fixtureRoot.deletingLastPathComponent().appendingPathComponent("inbound")

/// One entry of `Fixtures/inbound/manifest.json`.
struct InboundFixture: Decodable, Sendable {
    struct Expect: Decodable, Sendable {
        var type: String
        var recipient: String
    }
    var file: String
    var provider: String
    var content_type: String
    var expect: Expect

    static let all: [InboundFixture] = {
        let data = try! Data(contentsOf: inboundRoot.appendingPathComponent("manifest.json"))
        return try! JSONDecoder().decode([InboundFixture].self, from: data)
    }()

    var body: [UInt8] { Array(try! Data(contentsOf: inboundRoot.appendingPathComponent(file))) }
}

func postBytes(
    _ client: some TestClientProtocol, _ uri: String, _ body: [UInt8], contentType: String,
    headers extra: [(String, String)] = []
) async throws -> (status: Int, body: String) {
    var headers: HTTPFields = [.contentType: contentType]
    for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
    return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: body)) {
        response in (Int(response.status.code), String(buffer: response.body))
    }
}

@Suite("Inbound mail routes")
struct InboundRouteTests {
    @Test func everyProviderFixtureIsReadAndStored() async throws {
        let harness = try Harness()
        var secrets = WebhookSecrets()
        secrets.mailgunSigningKey = "seqbridge-fixture-mailgun-signing-key"
        // The fixtures were signed on 2026-11-03; the route clock is 2026-11-02.
        secrets.toleranceSeconds = 7 * 86_400
        try await harness.app(secrets).test(.router) { client in
            for fixture in InboundFixture.all {
                let result = try await postBytes(
                    client, "/inbound/\(fixture.provider)", fixture.body, contentType: fixture.content_type)
                #expect(result.status == 200, "\(fixture.file): \(result.body)")
                #expect(result.body.contains(#""received":1"#), "\(fixture.file): \(result.body)")
            }
        }
        // Nothing was sent, so every event is kept unmatched with its type.
        let request = WebhookRequest(body: [], headers: [:], receivedAt: routeNow)
        for fixture in InboundFixture.all where fixture.provider != "mailgun" {
            var webhook = request
            webhook.body = fixture.body
            webhook.headers["content-type"] = fixture.content_type
            let decoded = try InboundSources.decode(source: fixture.provider, webhook)
            #expect(decoded.webhook.events.map(\.type.rawValue) == [fixture.expect.type], "\(fixture.file)")
            #expect(decoded.webhook.events.first?.recipient == fixture.expect.recipient, "\(fixture.file)")
        }
    }

    @Test func mailgunInboundSignaturesAreChecked() async throws {
        let harness = try Harness()
        var secrets = WebhookSecrets()
        secrets.mailgunSigningKey = "another-key"
        secrets.toleranceSeconds = 7 * 86_400
        let fixture = try #require(InboundFixture.all.first { $0.provider == "mailgun" })
        try await harness.app(secrets).test(.router) { client in
            let result = try await postBytes(
                client, "/inbound/mailgun", fixture.body, contentType: fixture.content_type)
            #expect(result.status == 401)
            #expect(result.body.contains("signature does not match"))
        }
    }

    @Test func refusalsCarryTheirReason() async throws {
        let harness = try Harness()
        var secrets = WebhookSecrets()
        secrets.basicAuth["raw"] = "inbound:s3cret"
        let message = Array("From: maya@creator.example\nSubject: Re: hi\n\nyes\n".utf8)
        try await harness.app(secrets, maxBody: 4096).test(.router) { client in
            var result = try await postBytes(client, "/inbound/raw", message, contentType: "message/rfc822")
            #expect(result.status == 401)
            let good = [("Authorization", "Basic " + Data("inbound:s3cret".utf8).base64EncodedString())]
            result = try await postBytes(client, "/inbound/raw", message, contentType: "message/rfc822", headers: good)
            #expect(result.status == 200)
            result = try await postBytes(
                client, "/inbound/raw", message, contentType: "application/json", headers: good)
            #expect(result.status == 415)
            result = try await postBytes(
                client, "/inbound/raw", Array(repeating: 65, count: 5000), contentType: "message/rfc822", headers: good)
            #expect(result.status == 413)
            result = try await postBytes(client, "/reports/dsn", message, contentType: "message/rfc822")
            #expect(result.status == 400)
            #expect(result.body.contains("not a delivery status report"))
            result = try await postBytes(client, "/reports/dsn", Array("<nope".utf8), contentType: "application/xml")
            #expect(result.status == 400)
            #expect(result.body.contains("not well-formed"))
            result = try await postBytes(client, "/inbound/postmark", Array("[]".utf8), contentType: "application/json")
            #expect(result.status == 400)
        }
        // Refused requests stored nothing.
        #expect(try await harness.engine.store.retryUnmatched(now: routeNow) == (0, 1))
    }
}
