import Crypto
import Foundation
import SeqbridgeCore

/// Per-provider secrets. Where a secret is configured, a request without valid
/// authentication is refused (401) before anything is decoded or stored.
public struct WebhookSecrets: Sendable {
    /// Mailgun's webhook signing key (HMAC-SHA256 over timestamp + token).
    public var mailgunSigningKey: String?
    /// SendGrid's signed-webhook public key (base64 DER, as SendGrid shows it).
    public var sendgridPublicKey: String?
    /// Mandrill's webhook key and the URL exactly as configured in Mandrill.
    public var mandrillKey: String?
    public var mandrillURL: String?
    /// Resend's (Svix) signing secret, `whsec_...`.
    public var resendSecret: String?
    /// `user:password` per provider, for those that offer only basic auth.
    public var basicAuth: [String: String] = [:]
    /// How far a signed timestamp may be from now, in seconds (replays).
    public var toleranceSeconds: Int64 = 300
    /// Mailgun tokens seen within the tolerance window: a token is good once.
    let seenTokens = ReplayGuard()

    public init() {}

    /// The environment variables read by `fromEnvironment`.
    public static let variables =
        [
            "SEQBRIDGE_MAILGUN_SIGNING_KEY", "SEQBRIDGE_SENDGRID_PUBLIC_KEY", "SEQBRIDGE_MANDRILL_KEY",
            "SEQBRIDGE_MANDRILL_URL", "SEQBRIDGE_RESEND_SECRET", "SEQBRIDGE_WEBHOOK_TOLERANCE",
        ] + basicAuthNames.map { "SEQBRIDGE_\($0.uppercased())_BASIC_AUTH" }

    /// Every name that can have basic auth: the providers, plus `raw` for
    /// `/inbound/raw` and `dsn` for `/reports/dsn`.
    public static let basicAuthNames = Providers.names + ["raw", "dsn"]

    /// Reads every setting at once; all problems are listed together.
    public static func fromEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> WebhookSecrets {
        var secrets = WebhookSecrets()
        var problems: [String] = []
        func value(_ name: String) -> String? {
            environment[name].flatMap { $0.isEmpty ? nil : $0 }
        }
        secrets.mailgunSigningKey = value("SEQBRIDGE_MAILGUN_SIGNING_KEY")
        if let key = value("SEQBRIDGE_SENDGRID_PUBLIC_KEY") {
            if SendGridSignature.publicKey(key) == nil {
                problems.append("SEQBRIDGE_SENDGRID_PUBLIC_KEY is not a base64 P-256 public key")
            }
            secrets.sendgridPublicKey = key
        }
        secrets.mandrillKey = value("SEQBRIDGE_MANDRILL_KEY")
        secrets.mandrillURL = value("SEQBRIDGE_MANDRILL_URL")
        if secrets.mandrillKey != nil, secrets.mandrillURL == nil {
            problems.append("SEQBRIDGE_MANDRILL_URL must name the webhook URL configured in Mandrill")
        }
        if let secret = value("SEQBRIDGE_RESEND_SECRET") {
            if Svix.key(secret) == nil { problems.append("SEQBRIDGE_RESEND_SECRET is not a whsec_ base64 secret") }
            secrets.resendSecret = secret
        }
        if let tolerance = value("SEQBRIDGE_WEBHOOK_TOLERANCE") {
            if let seconds = Int64(tolerance), seconds > 0 {
                secrets.toleranceSeconds = seconds
            } else {
                problems.append("SEQBRIDGE_WEBHOOK_TOLERANCE must be a number of seconds")
            }
        }
        for provider in basicAuthNames {
            let name = "SEQBRIDGE_\(provider.uppercased())_BASIC_AUTH"
            guard let credentials = value(name) else { continue }
            if !credentials.contains(":") { problems.append("\(name) must be user:password") }
            secrets.basicAuth[provider] = credentials
        }
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        return secrets
    }

    /// Checks a request's authenticity on its exact bytes; throws `.unauthenticated` with why.
    public func verify(provider: String, _ request: WebhookRequest, now: Timestamp) throws(WebhookError) {
        if let credentials = basicAuth[provider] {
            try BasicAuth.verify(request, credentials: credentials)
        }
        switch provider {
        case "mailgun":
            if let key = mailgunSigningKey {
                let token = try MailgunSignature.verify(request, key: key, now: now, tolerance: toleranceSeconds)
                guard seenTokens.firstUse(token, now: now, window: toleranceSeconds) else {
                    throw .unauthenticated("this Mailgun token was already used: a replayed request")
                }
            }
        case "sendgrid":
            if let key = sendgridPublicKey {
                try SendGridSignature.verify(request, publicKey: key, now: now, tolerance: toleranceSeconds)
            }
        case "mandrill":
            if let key = mandrillKey, let url = mandrillURL {
                try MandrillSignature.verify(request, key: key, url: url)
            }
        case "resend":
            if let secret = resendSecret {
                try Svix.verify(request, secret: secret, now: now, tolerance: toleranceSeconds)
            }
        default: break
        }
    }
}

extension WebhookSecrets {
    /// Authenticity for inbound mail routes on the raw request: the source's basic auth.
    public func verifyInbound(source: String, _ request: WebhookRequest) throws(WebhookError) {
        if let credentials = basicAuth[source] {
            try BasicAuth.verify(request, credentials: credentials)
        }
    }

    /// Mailgun signs inbound posts with form fields, so they are checked once the form is read.
    public func verifyInboundFields(source: String, fields: [String: String], now: Timestamp) throws(WebhookError) {
        if source == "mailgun", let key = mailgunSigningKey {
            guard let timestamp = fields["timestamp"], let token = fields["token"], let given = fields["signature"]
            else { throw .unauthenticated("the Mailgun timestamp, token and signature fields are missing") }
            let used = try MailgunSignature.verify(
                timestamp: timestamp, token: token, signature: given, key: key, now: now, tolerance: toleranceSeconds)
            guard seenTokens.firstUse(used, now: now, window: toleranceSeconds) else {
                throw .unauthenticated("this Mailgun token was already used: a replayed request")
            }
        }
    }
}

public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var problems: [String]

    public var description: String {
        "The configuration has \(problems.count) problem(s): " + problems.joined(separator: "; ") + "."
    }
}

/// Constant-time comparison: the time taken does not depend on where the bytes differ.
func constantTimeEqual(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
    return difference == 0
}

func checkWindow(_ seconds: Int64?, now: Timestamp, tolerance: Int64, what: String) throws(WebhookError) {
    guard let seconds, seconds > 0, seconds < 1 << 40 else {
        throw .unauthenticated("the \(what) timestamp is missing or not a plausible number of seconds")
    }
    let skew = abs(now.millisecondsSinceEpoch / 1000 - seconds)
    guard skew <= tolerance else {
        throw .unauthenticated(
            "the \(what) timestamp is \(skew) seconds from now (more than \(tolerance)): a stale or replayed request")
    }
}

enum BasicAuth {
    static func verify(_ request: WebhookRequest, credentials: String) throws(WebhookError) {
        guard let header = request.headers["authorization"], header.lowercased().hasPrefix("basic ") else {
            throw .unauthenticated("basic authentication is required")
        }
        let given = Array(header.dropFirst(6).trimmingCharacters(in: .whitespaces).utf8)
        let expected = Array(Data(credentials.utf8).base64EncodedString().utf8)
        guard constantTimeEqual(given, expected) else {
            throw .unauthenticated("wrong basic authentication credentials")
        }
    }
}

enum MailgunSignature {
    /// Answers the request's token once the signature is good.
    static func verify(_ request: WebhookRequest, key: String, now: Timestamp, tolerance: Int64) throws(WebhookError)
        -> String
    {
        guard let body = object(try? parseJSON(request.body)), let signature = object(body["signature"]),
            let timestamp = string(signature["timestamp"]), let token = string(signature["token"]),
            let given = string(signature["signature"])
        else { throw .unauthenticated("the Mailgun signature block is missing") }
        return try verify(
            timestamp: timestamp, token: token, signature: given, key: key, now: now, tolerance: tolerance)
    }

    /// The check itself, for both event webhooks (JSON) and inbound routes (form fields).
    static func verify(
        timestamp: String, token: String, signature given: String, key: String, now: Timestamp, tolerance: Int64
    ) throws(WebhookError) -> String {
        try checkWindow(Int64(timestamp), now: now, tolerance: tolerance, what: "Mailgun")
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data((timestamp + token).utf8), using: SymmetricKey(data: Data(key.utf8)))
        let expected = Array(mac.map { String(format: "%02x", $0) }.joined().utf8)
        guard constantTimeEqual(Array(given.lowercased().utf8), expected) else {
            throw .unauthenticated("the Mailgun signature does not match")
        }
        return token
    }
}

enum SendGridSignature {
    static let signatureHeader = "x-twilio-email-event-webhook-signature"
    static let timestampHeader = "x-twilio-email-event-webhook-timestamp"

    static func publicKey(_ text: String) -> P256.Signing.PublicKey? {
        let cleaned = text.replacingOccurrences(of: "-----BEGIN PUBLIC KEY-----", with: "")
            .replacingOccurrences(of: "-----END PUBLIC KEY-----", with: "").filter { !$0.isWhitespace }
        guard let der = Data(base64Encoded: cleaned) else { return nil }
        return try? P256.Signing.PublicKey(derRepresentation: der)
    }

    static func verify(_ request: WebhookRequest, publicKey: String, now: Timestamp, tolerance: Int64)
        throws(WebhookError)
    {
        guard let key = Self.publicKey(publicKey) else {
            throw .unauthenticated("the SendGrid public key is not usable")
        }
        guard let signatureText = request.headers[signatureHeader], let timestamp = request.headers[timestampHeader]
        else {
            throw .unauthenticated("the SendGrid signature headers are missing")
        }
        try checkWindow(Int64(timestamp), now: now, tolerance: tolerance, what: "SendGrid")
        guard let der = Data(base64Encoded: signatureText),
            let signature = try? P256.Signing.ECDSASignature(derRepresentation: der)
        else { throw .unauthenticated("the SendGrid signature is not a base64 ECDSA signature") }
        guard key.isValidSignature(signature, for: Data(timestamp.utf8) + Data(request.body)) else {
            throw .unauthenticated("the SendGrid signature does not match")
        }
    }
}

enum MandrillSignature {
    static func verify(_ request: WebhookRequest, key: String, url: String) throws(WebhookError) {
        guard let given = request.headers["x-mandrill-signature"] else {
            throw .unauthenticated("the X-Mandrill-Signature header is missing")
        }
        let fields = Mandrill.formFields(request.body)
        var signed = url
        for name in fields.keys.sorted() { signed += name + fields[name]! }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(
            for: Data(signed.utf8), using: SymmetricKey(data: Data(key.utf8)))
        let expected = Array(Data(mac).base64EncodedString().utf8)
        guard constantTimeEqual(Array(given.utf8), expected) else {
            throw .unauthenticated("the Mandrill signature does not match")
        }
    }
}

enum Svix {
    static func key(_ secret: String) -> Data? {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        return Data(base64Encoded: encoded)
    }

    static func verify(_ request: WebhookRequest, secret: String, now: Timestamp, tolerance: Int64) throws(WebhookError)
    {
        guard let key = key(secret) else { throw .unauthenticated("the Resend secret is not usable") }
        guard let id = request.headers["svix-id"], let timestamp = request.headers["svix-timestamp"],
            let signatures = request.headers["svix-signature"]
        else { throw .unauthenticated("the svix-id, svix-timestamp and svix-signature headers are required") }
        try checkWindow(Int64(timestamp), now: now, tolerance: tolerance, what: "Svix")
        let signed = Data("\(id).\(timestamp).".utf8) + Data(request.body)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: key))
        let expected = Array(Data(mac).base64EncodedString().utf8)
        for entry in signatures.split(separator: " ") {
            let parts = entry.split(separator: ",", maxSplits: 1)
            if parts.count == 2, parts[0] == "v1", constantTimeEqual(Array(parts[1].utf8), expected) { return }
        }
        throw .unauthenticated("no svix signature matches")
    }
}

/// Remembers values (Mailgun tokens) for a time window; each is accepted once.
final class ReplayGuard: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [String: Int64] = [:]

    func firstUse(_ value: String, now: Timestamp, window: Int64) -> Bool {
        let seconds = now.millisecondsSinceEpoch / 1000
        return lock.withLock {
            if seen.count > 10_000 { seen = seen.filter { $0.value > seconds } }
            if let expiry = seen[value], expiry > seconds { return false }
            seen[value] = seconds + 2 * window
            return true
        }
    }
}
