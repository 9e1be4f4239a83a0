import Crypto
import Foundation
import SeqbridgeCore
import Testing
import X509
import _CryptoExtras

@testable import SeqbridgeWebhooks

/// A signing certificate made for the test, as SNS would publish one.
struct TestSigner {
    let key: _RSA.Signing.PrivateKey
    let pem: String
    static let certURL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"

    init() throws {
        key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let name = try DistinguishedName { CommonName("sns.amazonaws.com") }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: Date(timeIntervalSince1970: 1_700_000_000),
            notValidAfter: Date(timeIntervalSince1970: 2_000_000_000), issuer: name, subject: name,
            signatureAlgorithm: .sha256WithRSAEncryption, extensions: Certificate.Extensions(),
            issuerPrivateKey: .init(key))
        pem = try certificate.serializeAsPEM().pemString
    }

    /// The fixture's envelope, signed with this certificate.
    func sign(_ fixture: [UInt8], version: String) throws -> [UInt8] {
        var envelope = try JSONSerialization.jsonObject(with: Data(fixture)) as! [String: Any]
        envelope["SignatureVersion"] = version
        envelope["SigningCertURL"] = Self.certURL
        let text = Data(SNSVerifier.stringToSign(envelope)!.utf8)
        let signature =
            version == "1"
            ? try key.signature(for: Insecure.SHA1.hash(data: text), padding: .insecurePKCS1v1_5)
            : try key.signature(for: SHA256.hash(data: text), padding: .insecurePKCS1v1_5)
        envelope["Signature"] = signature.rawRepresentation.base64EncodedString()
        return Array(try JSONSerialization.data(withJSONObject: envelope))
    }
}

@Suite("SNS signatures")
struct SNSSignatureTests {
    func verifier(_ signer: TestSigner) async throws -> SNSVerifier {
        let verifier = SNSVerifier(fetch: { url in
            Issue.record("fetched \(url) though the certificate was cached")
            throw URLError(.notConnectedToInternet)
        })
        try await verifier.remember(certificatePEM: signer.pem, for: TestSigner.certURL)
        return verifier
    }

    @Test(arguments: ["1", "2"])
    func signedNotificationsPass(version: String) async throws {
        let signer = try TestSigner()
        let verifier = try await verifier(signer)
        for name in ["notification-bounce.json", "subscription-confirmation.json", "event-publishing-delivery.json"] {
            try await verifier.verify(try signer.sign(try fixture("ses", name), version: version))
        }
    }

    @Test func tamperedOrForeignMessagesFail() async throws {
        let signer = try TestSigner()
        let verifier = try await verifier(signer)
        let signed = try signer.sign(try fixture("ses", "notification-bounce.json"), version: "2")
        var envelope = try JSONSerialization.jsonObject(with: Data(signed)) as! [String: Any]
        envelope["Message"] = (envelope["Message"] as! String).replacingOccurrences(of: "Permanent", with: "Transient")
        await #expect(throws: WebhookError.self) {
            try await verifier.verify(Array(try JSONSerialization.data(withJSONObject: envelope)))
        }
        envelope = try JSONSerialization.jsonObject(with: Data(signed)) as! [String: Any]
        envelope["SigningCertURL"] = "https://evil.example/cert.pem"
        await #expect(throws: WebhookError.unauthenticated("the SigningCertURL is not an Amazon SNS address")) {
            try await verifier.verify(Array(try JSONSerialization.data(withJSONObject: envelope)))
        }
        let unsigned = try fixture("ses", "notification-bounce.json")
        await #expect(throws: WebhookError.self) { try await verifier.verify(unsigned) }
        // Signed by another key.
        let other = try TestSigner()
        await #expect(throws: WebhookError.self) {
            try await verifier.verify(try other.sign(try fixture("ses", "notification-bounce.json"), version: "1"))
        }
    }

    @Test func hosts() {
        #expect(SNSVerifier.isSNSHost("sns.eu-west-1.amazonaws.com"))
        #expect(SNSVerifier.isSNSHost("sns.cn-north-1.amazonaws.com.cn"))
        #expect(!SNSVerifier.isSNSHost("sns.amazonaws.com.evil.example"))
        #expect(!SNSVerifier.isSNSHost("evilsns.us-east-1.amazonaws.com"))
    }
}

@Suite("Hostile input")
struct HostileInputTests {
    @Test func absurdTimestampsAreRefusedNotCrashed() throws {
        var secrets = WebhookSecrets()
        secrets.resendSecret = "whsec_" + Data(repeating: 1, count: 24).base64EncodedString()
        let request = WebhookRequest(
            body: Array("{}".utf8),
            headers: ["svix-id": "a", "svix-timestamp": "-9223372036854775808", "svix-signature": "v1,xx"],
            receivedAt: Timestamp(millisecondsSinceEpoch: 1_793_613_600_000))
        #expect(throws: WebhookError.self) { try secrets.verify(provider: "resend", request, now: request.receivedAt) }
        for body in [
            #"[{"event":"delivered","email":"a@b.example","timestamp":1e300}]"#,
            #"[{"event":"delivered","email":"a@b.example","timestamp":"nan"}]"#,
        ] {
            let events = try Providers.decode(
                provider: "sendgrid",
                WebhookRequest(body: Array(body.utf8), headers: [:], receivedAt: request.receivedAt)
            ).events
            #expect(events.first?.malformed != nil)
        }
    }

    @Test func mailgunTokensWorkOnce() throws {
        var secrets = WebhookSecrets()
        secrets.mailgunSigningKey = "k"
        let now = Timestamp(millisecondsSinceEpoch: 1_793_613_600_000)
        let timestamp = "1793613600"
        let token = "tok-1"
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data((timestamp + token).utf8), using: SymmetricKey(data: Data("k".utf8)))
        let signature = mac.map { String(format: "%02x", $0) }.joined()
        let body =
            #"{"signature":{"timestamp":"\#(timestamp)","token":"\#(token)","signature":"\#(signature)"},"event-data":{}}"#
        let request = WebhookRequest(body: Array(body.utf8), headers: [:], receivedAt: now)
        try secrets.verify(provider: "mailgun", request, now: now)
        #expect(throws: WebhookError.unauthenticated("this Mailgun token was already used: a replayed request")) {
            try secrets.verify(provider: "mailgun", request, now: now)
        }
    }

    @Test func snsTopicsAndCertificateFetchFailures() async throws {
        let signer = try TestSigner()
        let signed = try signer.sign(try fixture("ses", "notification-bounce.json"), version: "2")
        let other = SNSVerifier(topics: ["arn:aws:sns:us-east-1:123456789012:someone-else"])
        await #expect(throws: WebhookError.unauthenticated("the SNS topic is not one this service subscribed to")) {
            try await other.verify(signed)
        }
        let offline = SNSVerifier(fetch: { _ in throw URLError(.notConnectedToInternet) })
        do {
            try await offline.verify(signed)
            Issue.record("verified without a certificate")
        } catch {
            #expect(error.status == 503)
        }
        #expect(!SNSVerifier.isSNSHost("sns.s3.amazonaws.com"))
        #expect(SNSVerifier.isCertificatePath("/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem"))
        #expect(!SNSVerifier.isCertificatePath("/bucket/cert.pem"))
    }
}
