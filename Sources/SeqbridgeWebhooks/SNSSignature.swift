import Crypto
import Foundation
import SeqbridgeCore
import X509
import _CryptoExtras

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Amazon SNS message signatures (versions 1 and 2), checked against the
/// signing certificate named in the message. The certificate is fetched only
/// from an SNS host over HTTPS and kept once fetched.
public actor SNSVerifier {
    private var keys: [String: _RSA.Signing.PublicKey] = [:]
    private let extraHosts: Set<String>
    /// When not empty, only messages of these topics are accepted.
    private let topics: Set<String>
    private let fetch: @Sendable (URL) async throws -> Data

    /// `extraHosts` lets tests serve a certificate from loopback; `topics`
    /// lists the SNS topic ARNs we subscribed to; `fetch` gets a URL's bytes.
    public init(
        extraHosts: Set<String> = [], topics: Set<String> = [],
        fetch: @escaping @Sendable (URL) async throws -> Data = { try await URLSession.shared.data(from: $0).0 }
    ) {
        self.extraHosts = extraHosts
        self.topics = topics
        self.fetch = fetch
    }

    /// Puts a certificate in the cache, as if fetched from `url`.
    public func remember(certificatePEM: String, for url: String) throws {
        keys[url] = try Self.key(fromPEM: certificatePEM)
    }

    /// Throws `.unauthenticated` unless the SNS envelope in `body` is signed by its SNS certificate.
    public func verify(_ body: [UInt8]) async throws(WebhookError) {
        guard let envelope = object(try? parseJSON(body)) else { return }  // decode will refuse it
        // A message signed by SNS for someone else's topic is still signed by SNS.
        if !topics.isEmpty, !topics.contains(string(envelope["TopicArn"]) ?? "") {
            throw .unauthenticated("the SNS topic is not one this service subscribed to")
        }
        guard let version = string(envelope["SignatureVersion"]), version == "1" || version == "2" else {
            throw .unauthenticated("the SNS SignatureVersion is missing or not 1 or 2")
        }
        guard let signatureText = string(envelope["Signature"]), let signature = Data(base64Encoded: signatureText)
        else {
            throw .unauthenticated("the SNS Signature is missing or not base64")
        }
        guard let certURL = string(envelope["SigningCertURL"]), let url = URL(string: certURL), let host = url.host,
            Self.isSNSHost(host) && url.scheme == "https" && url.query == nil && Self.isCertificatePath(url.path)
                || extraHosts.contains(host)
        else { throw .unauthenticated("the SigningCertURL is not an Amazon SNS address") }
        guard let text = Self.stringToSign(envelope) else {
            throw .unauthenticated("the SNS message lacks the fields its signature covers")
        }
        let key: _RSA.Signing.PublicKey
        if let cached = keys[certURL] {
            key = cached
        } else {
            do {
                let pem = String(decoding: try await fetch(url), as: UTF8.self)
                key = try Self.key(fromPEM: pem)
            } catch {
                // Not the sender's fault: SNS retries on 5xx, and drops the message on 4xx.
                throw .temporarilyUnavailable("the SNS signing certificate could not be fetched or read")
            }
            keys[certURL] = key
        }
        let rsa = _RSA.Signing.RSASignature(rawRepresentation: signature)
        let data = Data(text.utf8)
        let valid =
            version == "1"
            ? key.isValidSignature(rsa, for: Insecure.SHA1.hash(data: data), padding: .insecurePKCS1v1_5)
            : key.isValidSignature(rsa, for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5)
        guard valid else { throw .unauthenticated("the SNS signature does not match") }
    }

    static func key(fromPEM pem: String) throws -> _RSA.Signing.PublicKey {
        let certificate = try Certificate(pemEncoded: pem)
        guard let key = _RSA.Signing.PublicKey(certificate.publicKey) else {
            throw WebhookError.unauthenticated("not RSA")
        }
        return key
    }

    /// `sns.<region>.amazonaws.com` (and the China partition), the region
    /// written as AWS writes them (`us-east-1`, `cn-north-1`, `us-gov-west-1`).
    public static func isSNSHost(_ host: String) -> Bool {
        let parts = host.lowercased().split(separator: ".")
        guard parts.count >= 4, parts[0] == "sns" else { return false }
        let suffix = parts[2...].joined(separator: ".")
        guard suffix == "amazonaws.com" || suffix == "amazonaws.com.cn" else { return false }
        let region = parts[1].split(separator: "-")
        return region.count >= 3 && region.last!.allSatisfy(\.isNumber)
            && region.dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isLetter) }
    }

    /// `/SimpleNotificationService-<id>.pem`, the only place SNS keeps its certificates.
    static func isCertificatePath(_ path: String) -> Bool {
        guard path.hasPrefix("/SimpleNotificationService-"), path.hasSuffix(".pem") else { return false }
        let id = path.dropFirst("/SimpleNotificationService-".count).dropLast(4)
        return !id.isEmpty && id.allSatisfy { $0.isLetter || $0.isNumber }
    }

    /// The fields each message type signs, in order, as `Name\nValue\n`.
    public static func stringToSign(_ envelope: [String: Any]) -> String? {
        guard let type = string(envelope["Type"]) else { return nil }
        let names =
            type == "Notification"
            ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
            : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        var text = ""
        for name in names {
            guard let value = envelope[name] as? String else {
                if name == "Subject" { continue }
                return nil
            }
            text += name + "\n" + value + "\n"
        }
        return text
    }
}
