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
