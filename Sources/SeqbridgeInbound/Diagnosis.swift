import SeqbridgeCore
import SeqbridgeMIME

/// Why a message could not be delivered, coarsely.
public enum BounceReason: String, Sendable, CaseIterable {
    case userUnknown = "user_unknown"
    case domainUnknown = "domain_unknown"
    case mailboxFull = "mailbox_full"
    case mailboxDisabled = "mailbox_disabled"
    case blocked
    case spamContent = "spam_content"
    case policy
    case messageTooBig = "message_too_big"
    case expired
    case network
    case other

    /// Hard when the address itself is bad; every other reason may pass.
    public var bounceClass: BounceClass {
        switch self {
        case .userUnknown, .domainUnknown: .hard
        default: .soft
        }
    }
}

/// Reading a status code and a diagnostic text into a reason.
public enum Diagnosis {
    /// The first enhanced status code (`5.1.1`) in the text.
    public static func enhancedCode(in bytes: [UInt8]) -> String? {
        var index = 0
        let count = bytes.count
        while index + 4 < count {
            let c = bytes[index]
            if c == 50 || c == 52 || c == 53, bytes[index + 1] == 46, index == 0 || !isCodeByte(bytes[index - 1]) {
                var cursor = index + 2
                let subjectStart = cursor
                while cursor < count, isDigit(bytes[cursor]), cursor - subjectStart < 3 { cursor += 1 }
                if cursor > subjectStart, cursor < count, bytes[cursor] == 46 {
                    cursor += 1
                    let detailStart = cursor
                    while cursor < count, isDigit(bytes[cursor]), cursor - detailStart < 3 { cursor += 1 }
                    if cursor > detailStart, cursor == count || !isCodeByte(bytes[cursor]) {
                        return String(decoding: bytes[index..<cursor], as: UTF8.self)
                    }
                }
            }
            index += 1
        }
        return nil
    }

    /// The first three-digit SMTP reply code (4xx or 5xx) standing on its own.
    public static func replyCode(in bytes: [UInt8]) -> String? {
        var index = 0
        let count = bytes.count
        while index + 2 < count {
            let c = bytes[index]
            if c == 52 || c == 53, isDigit(bytes[index + 1]), isDigit(bytes[index + 2]),
                index == 0 || !isCodeByte(bytes[index - 1]) && bytes[index - 1] != 35,
                index + 3 == count || bytes[index + 3] == 32 || bytes[index + 3] == 45
            {
                return String(decoding: bytes[index..<index + 3], as: UTF8.self)
            }
            index += 1
        }
        return nil
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte &- 48 < 10 }
    @inline(__always) static func isCodeByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || byte == 46 || Bytes.lower(byte) &- 97 < 26
    }

    /// The reason for a failure: the text's own words first (they are the most
    /// specific), then the enhanced status code, then the reply code.
    /// `fallback` is read when `text` names no reason (e.g. the report's
    /// human-readable part behind a terse diagnostic), and to learn at which
    /// SMTP command the server refused. `atRecipient` says it is known: the
    /// refusal came in answer to RCPT TO.
    public static func reason(
        status: String?, text lowered: [UInt8], atRecipient: Bool = false, fallback: (() -> [UInt8])? = nil
    ) -> BounceReason {
        // Under a security or policy code, "mailbox unavailable" usually hides a block.
        let policyCode = status.map { $0.dropFirst(1).hasPrefix(".7.") } ?? false
        var textReason = reasonFromText(lowered, policyFirst: policyCode)
        if textReason == nil, let fallback { textReason = reasonFromText(fallback(), policyFirst: policyCode) }
        guard let fromText = textReason else {
            // RFC 7504: 521 and 556 say the host or domain accepts no mail at all.
            if let reply = Diagnosis.replyCode(in: lowered), reply == "521" || reply == "556" { return .domainUnknown }
            if let status, let fromCode = reasonFromCode(status) { return fromCode }
            return .other
        }
        // "User unknown" in words alone is an unknown address only when the server said it
        // to RCPT TO (or the status code says so). After the message was sent, it is the
        // receiving side's filter speaking, which may let the next message through.
        if fromText == .userUnknown, !atRecipient, !(status.map(isAddressCode) ?? false),
            !strongUserUnknown.contains(where: { Bytes.find($0, in: lowered) != nil })
        {
            let stage = Self.stage(in: lowered) ?? fallback.flatMap { Self.stage(in: $0()) }
            if stage != .recipient { return .other }
        }
        return fromText
    }

    /// Wordings that only ever mean an unknown address, whatever the command.
    static let strongUserUnknown: [[UInt8]] = [
        "not listed in", "name is not recognized", "unknown user:", "requested action not taken: mailbox unavailable",
        "recipient address rejected: access denied", ">... user unknown", "invalid recipient",
        "check if address is correct", "check the recipient address",
    ].map { Array($0.utf8) }

    /// x.1.0, x.1.1, x.1.3, x.1.6, x.1.10: the address itself.
    static func isAddressCode(_ status: String) -> Bool {
        let pieces = status.split(separator: ".")
        return pieces.count == 3 && pieces[1] == "1" && ["0", "1", "3", "6", "10"].contains(pieces[2])
    }

    enum Stage { case recipient, data }

    static let recipientStageMarkers: [[UInt8]] = [
        "rcpt to command", "rcpt command", "in reply to rcpt", "after rcpt", "recipient address rejected",
        ">>> rcpt to",
        "rcpt to:<", "rcpt to response", "smtp:rcpt",
    ].map { Array($0.utf8) }
    static let dataStageMarkers: [[UInt8]] = [
        "end of data", "after data", "in reply to data", "data command", "after end of data", "during data",
    ].map { Array($0.utf8) }

    /// Which SMTP command the server was answering, when the text says.
    static func stage(in lowered: [UInt8]) -> Stage? {
        if dataStageMarkers.contains(where: { Bytes.find($0, in: lowered) != nil }) { return .data }
        if recipientStageMarkers.contains(where: { Bytes.find($0, in: lowered) != nil }) { return .recipient }
        return nil
    }

    static func reasonFromCode(_ status: String) -> BounceReason? {
        let pieces = status.split(separator: ".")
        guard pieces.count == 3 else { return nil }
        if isAddressCode(status) { return .userUnknown }
        switch (pieces[1], pieces[2]) {
        case ("1", "2"), ("4", "4"): return .domainUnknown
        case ("2", "2"): return .mailboxFull
        case ("2", "1"): return .mailboxDisabled
        case ("2", "3"), ("3", "4"): return .messageTooBig
        case ("4", "7"): return .expired
        case ("4", "1"), ("4", "2"), ("4", "0"), ("4", "3"), ("4", "5"), ("4", "6"): return .network
        case ("7", "1"): return .blocked
        case ("7", _): return .policy
        case ("3", _): return .other
        default: return nil
        }
    }

    /// Phrases receiving servers use, most specific first.
    static let phrases: [(BounceReason, [String])] = [
        (
            .messageTooBig,
            [
                "message too large", "message too big", "message is too large", "message size exceeds",
                "exceeds the maximum size", "exceeds size limit", "message size limit", "mail size limit",
                "size exceeds", "message length exceeds", "message exceeds", "is larger than", "too large for",
                "message file too big",
            ]
        ),
        (
            .mailboxFull,
            [
                "mailbox full", "mailbox is full", "mailbox was full", "over quota", "overquota", "quota exceeded",
                "exceeded storage", "exceeded its quota", "exceeds quota", "insufficient storage",
                "insufficient system storage",
                "mailbox size limit", "mailfolder is full", "disk quota", "storage limit", "user is over",
                "full mailbox", "mail box full", "quota exceed", "out of storage", "mailbox has exceeded",
                "no space left",
                "mailbox is over", "inbox is full", "is over its", "reached its storage", "mailbox exceeded",
                "too many messages in this mailbox", "account is full", "over the storage", "postfach voll",
                "quota limit", "boite pleine", "boîte pleine",
            ]
        ),
        (
            .mailboxDisabled,
            [
                "is disabled", "has been disabled", "account is disabled", "account has been disabled",
                "account disabled", "mailbox disabled",
                "mailbox is disabled", "account is inactive", "inactive account", "mailbox is inactive",
                "account has been suspended", "account suspended", "account is suspended", "suspended account",
                "deactivated", "account is locked", "account has been locked", "mailbox is frozen", "is not active",
                "account expired", "mailbox is not active", "user not active", "temporarily disabled",
                "this account has been disabled or discontinued", "disabled recipient", "recipient disabled",
                "recipient is inactive", "blocked account",
                "account has been blocked", "refused due to recipient preferences",
            ]
        ),
        (
            .domainUnknown,
            [
                "host or domain name not found", "domain not found", "unknown domain", "no such domain",
                "domain does not exist", "domain doesn't exist", "name service error", "host not found",
                "unrouteable address", "unroutable address", "no mx", "null mx", "nullmx", "does not accept mail",
                "domain name not found", "unknown host", "mx lookup", "couldn't find a mail exchanger",
                "account or domain may not exist", "dns lookup failure", "lookup failure",
                "non-existent host", "nonexistent domain",
                "domain is not", "no route to host", "dns error", "not a valid domain", "invalid domain",
                "domain isn't in my list", "illegal host/domain", "host unknown", "unknown mail domain",
                "no such host", "could not find the domain", "domain name is not", "domain lookup failed",
                "all relevant mx records point to non-existent hosts", "domain has no mx", "nxdomain",
            ]
        ),
        (
            .userUnknown,
            [
                "user unknown", "unknown user", "no such user", "user not found", "does not exist",
                "doesn't exist", "not exist", "unknown recipient", "recipient unknown", "recipient not found",
                "recipientnotfound", "recipient notfound", "invalid recipient", "invalid mailbox", "no mailbox",
                "mailbox not found", "mailbox unavailable", "mailbox is unavailable", "no such mailbox",
                "not a valid mailbox", "no such recipient", "address unknown", "unknown address", "address not found",
                "undeliverable address", "no such person", "addressee unknown", "no longer with", "has moved",
                "no longer available", "no longer valid", "bad destination mailbox", "invalid address",
                "no account by that name", "not a known user", "not a valid user",
                "unknown local part", "unknown local-part", "unknown mailbox", "bad recipient", "user doesn't have",
                "doesn't have a", "no longer accepts mail", "not our customer",
                "unknown e-mail address", "unknown email address", "no mail box", "not listed in", "unknown alias",
                "invalid user", "user invalid", "address invalid", "no one at this address", "mailbox invalid",
                "account does not exist", "recipient address rejected: access denied", "no existe",
                "utilisateur inconnu",
                "nessun utente", "badrcptto", "not in my validrcptto", "user missing home directory",
                "address does not exist", "not a local address", "name is not recognized", "not recognized",
                "no valid recipients", "unknown or illegal", "mailbox not present", "mailbox does not exist",
                "address not present",
            ]
        ),
        (
            .blocked,
            [
                "blocked", "blacklist", "blocklist", "block list", "black list", "listed at", "listed in",
                "listed on", "rbl", "spamhaus", "dnsbl", "reputation", "denied by policy", "access denied",
                "client host rejected", "refused to talk", "not allowed to send", "your ip", "banned", "bad reputation",
                "too many connections",
                "rate limit", "sending rate", "too many recipients", "try again later", "throttl",
            ]
        ),
        (
            .spamContent,
            [
                "spam", "content rejected", "message content", "content filter", "contentfilter", "virus",
                "malware", "suspicious", "bulk mail", "unsolicited", "junk mail", "phishing", "url blocked",
                "message looks like", "objectionable content", "message rejected due to content",
                "considered as spam", "message has been blocked",
            ]
        ),
        (
            .policy,
            [
                "dmarc", "spf", "dkim", "policy", "not authorized", "not permitted", "authentication required",
                "relay access denied", "relaying denied", "relay not permitted", "not allowed", "unauthenticated",
                "sender address rejected", "sender rejected", "security", "reverse dns", "ptr record",
                "restricted", "only accepts mail from", "does not accept messages from", "rejected by recipient",
                "sender denied", "tls required", "encryption required",
            ]
        ),
        (
            .expired,
            [
                "retry timeout exceeded", "retry time not reached", "too long in queue", "message expired",
                "delivery time expired", "could not be delivered for", "giving up", "has been undeliverable for",
                "expired after", "timeout exceeded", "exceeded the retry period", "maximum time", "time limit exceeded",
                "delivery expired", "has not been delivered for", "lifetime exceeded",
            ]
        ),
        (
            .network,
            [
                "connection timed out", "timed out", "connection refused", "network is unreachable",
                "host unreachable", "no route", "connection reset", "lost connection", "conversation with",
                "could not connect", "unable to connect", "connection dropped", "broken pipe", "tls negotiation failed",
                "temporary failure", "temporarily unavailable", "service unavailable", "try again",
            ]
        ),
    ]

    /// A phrase with the bigrams that must be in a text that contains it.
    struct Phrase {
        let bytes: [UInt8]
        let first: Int
        let last: Int

        init(_ text: String) {
            bytes = Array(text.utf8)
            first = BigramFilter.bigram(bytes[0], bytes.count > 1 ? bytes[1] : 0)
            last = bytes.count > 2 ? BigramFilter.bigram(bytes[bytes.count - 2], bytes[bytes.count - 1]) : first
        }
    }

    static let compiledPhrases: [(BounceReason, [Phrase])] = phrases.map { ($0.0, $0.1.map(Phrase.init)) }
    static let policyReasons: Set<BounceReason> = [.spamContent, .blocked, .policy]
    static let policyFirstPhrases =
        compiledPhrases.filter { policyReasons.contains($0.0) }
        + compiledPhrases.filter { !policyReasons.contains($0.0) }

    /// The reason of the first phrase found, most specific reasons first (with
    /// `policyFirst`, the policy reasons come first). The text's bigrams rule
    /// most phrases out before any search.
    static func reasonFromText(_ lowered: [UInt8], policyFirst: Bool = false) -> BounceReason? {
        guard lowered.count > 1 else { return nil }
        return BigramFilter.with(lowered) { filter -> BounceReason? in
            for (reason, list) in policyFirst ? policyFirstPhrases : compiledPhrases {
                for phrase in list where filter.mayContain(first: phrase.first, last: phrase.last) {
                    if Bytes.find(phrase.bytes, in: lowered) != nil { return reason }
                }
            }
            return nil
        }
    }
}
