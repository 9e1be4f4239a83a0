import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SeqbridgeCore
import SeqbridgeInbound
import SeqbridgeMIME
import SeqbridgeMail

/// Sends through an SMTP server, one connection reused for every message of a
/// tick: EHLO, STARTTLS (or implicit TLS), AUTH, then per message MAIL, RCPT
/// and DATA (pipelined when the server offers it).
public actor SMTPTransport: MailTransport {
    public let configuration: SMTPConfiguration
    private let secret: @Sendable () throws -> String?
    private let group: EventLoopGroup
    private var connection: SMTPConnection?
    private var capabilities: Set<String> = []
    private var maxSize: Int?

    /// `secret` reads the password (or bearer token) when a connection is opened.
    public init(
        _ configuration: SMTPConfiguration, secret: @escaping @Sendable () throws -> String?,
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.secret = secret
        self.group = group
    }

    /// Why a connection could not be made ready.
    enum ReadyFailure: Error {
        /// Credentials refused: the mailbox cannot send until someone fixes them.
        case rejected(String)
        /// The server could not be reached or answered badly: try again later.
        case unavailable(String)
    }

    public func send(_ message: OutgoingMessage) async -> TransportOutcome {
        let ready: SMTPConnection
        do {
            ready = try await connected()
        } catch ReadyFailure.rejected(let why) {
            return .mailboxRejected(why)
        } catch ReadyFailure.unavailable(let why) {
            return .mailboxUnavailable(why)
        } catch {
            return .mailboxUnavailable("\(error)")
        }
        do {
            return try await deliver(message, on: ready)
        } catch {
            await drop()
            return .mailboxUnavailable("\(error)")
        }
    }

    /// Ends the conversation politely.
    public func close() async {
        guard let connection else { return }
        _ = try? await connection.exchange(Array("QUIT\r\n".utf8), replies: 1, timeout: .seconds(5), what: "QUIT")
        await connection.close()
        self.connection = nil
    }

    /// Connects, authenticates and reports what the server said, sending nothing.
    public func check() async -> Result<String, CheckFailure> {
        do {
            _ = try await connected()
            let summary =
                "connected to \(configuration.host):\(configuration.port)"
                + (configuration.security == .none ? " without TLS" : " over TLS")
                + (configuration.username.map { " and authenticated as \($0)" } ?? "")
            await close()
            return .success(summary)
        } catch ReadyFailure.rejected(let why) {
            return .failure(.rejected(why))
        } catch ReadyFailure.unavailable(let why) {
            return .failure(.unavailable(why))
        } catch {
            return .failure(.unavailable("\(error)"))
        }
    }

    public enum CheckFailure: Error, Sendable, Equatable {
        case rejected(String)
        case unavailable(String)
    }

    private func drop() async {
        await connection?.close()
        connection = nil
    }

    private var timeout: TimeAmount { .seconds(configuration.commandTimeout) }

    private func connected() async throws -> SMTPConnection {
        if let connection, connection.channel.isActive { return connection }
        connection = nil
        let config = configuration
        let tls: NIOSSLContext?
        do {
            tls = config.security == .none ? nil : try Self.tlsContext(config)
        } catch {
            throw ReadyFailure.unavailable("TLS cannot be set up: \(error)")
        }
        let serverName = config.host.first?.isNumber == true || config.host.contains(":") ? nil : config.host
        let opened: SMTPConnection
        do {
            opened = try await SMTPConnection.connect(
                host: config.host, port: config.port, tls: config.security == .tls ? tls : nil, serverName: serverName,
                timeout: .seconds(config.connectTimeout), group: group)
        } catch {
            throw ReadyFailure.unavailable("\(error)")
        }
        do {
            let greeting = try await opened.exchange(nil, replies: 1, timeout: timeout, what: "the greeting")[0]
            guard greeting.code == 220 else { throw ReadyFailure.unavailable("the server greeted with \(greeting)") }
            try await hello(opened)
            if config.security == .starttls {
                guard capabilities.contains("STARTTLS") else {
                    throw ReadyFailure.unavailable(
                        "the server does not offer STARTTLS, and this mailbox requires it (tls=starttls)")
                }
                let reply = try await opened.exchange(
                    Array("STARTTLS\r\n".utf8), replies: 1, timeout: timeout, what: "STARTTLS")[0]
                guard reply.code == 220 else { throw ReadyFailure.unavailable("STARTTLS refused: \(reply)") }
                try await opened.startTLS(tls!, serverName: serverName)
                try await hello(opened)
            }
            try await authenticate(opened)
        } catch let failure as ReadyFailure {
            await opened.close()
            throw failure
        } catch {
            await opened.close()
            throw ReadyFailure.unavailable("\(error)")
        }
        connection = opened
        return opened
    }

    private func hello(_ connection: SMTPConnection) async throws {
        let name = configuration.heloName ?? "localhost"
        let reply = try await connection.exchange(
            Array("EHLO \(name)\r\n".utf8), replies: 1, timeout: timeout, what: "EHLO")[0]
        guard reply.code == 250 else { throw ReadyFailure.unavailable("EHLO refused: \(reply)") }
        capabilities = []
        maxSize = nil
        for line in reply.lines.dropFirst() {
            let words = line.uppercased().split(separator: " ")
            guard let keyword = words.first else { continue }
            capabilities.insert(String(keyword))
            if keyword == "AUTH" { for mechanism in words.dropFirst() { capabilities.insert("AUTH=\(mechanism)") } }
            if keyword == "SIZE", words.count > 1, let size = Int(words[1]), size > 0 { maxSize = size }
        }
    }

    private func authenticate(_ connection: SMTPConnection) async throws {
        guard let user = configuration.username else { return }
        let password: String
        do {
            guard let value = try secret() else {
                throw ReadyFailure.rejected("no password or token is configured for \(user)")
            }
            password = value
        } catch let failure as ReadyFailure {
            throw failure
        } catch {
            throw ReadyFailure.rejected("the password cannot be read: \(error)")
        }
        let mechanism: SMTPConfiguration.Mechanism
        if let chosen = configuration.mechanism {
            mechanism = chosen
        } else if capabilities.contains("AUTH=PLAIN") {
            mechanism = .plain
        } else if capabilities.contains("AUTH=LOGIN") {
            mechanism = .login
        } else {
            throw ReadyFailure.unavailable("the server offers no password login (AUTH PLAIN or LOGIN)")
        }
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        var reply: SMTPReply
        switch mechanism {
        case .plain:
            reply = try await connection.exchange(
                Array("AUTH PLAIN \(base64("\0\(user)\0\(password)"))\r\n".utf8), replies: 1, timeout: timeout,
                what: "AUTH")[0]
        case .login:
            reply = try await connection.exchange(
                Array("AUTH LOGIN\r\n".utf8), replies: 1, timeout: timeout, what: "AUTH")[0]
            if reply.code == 334 {
                reply = try await connection.exchange(
                    Array("\(base64(user))\r\n".utf8), replies: 1, timeout: timeout, what: "AUTH")[0]
            }
            if reply.code == 334 {
                reply = try await connection.exchange(
                    Array("\(base64(password))\r\n".utf8), replies: 1, timeout: timeout, what: "AUTH")[0]
            }
        case .xoauth2:
            reply = try await connection.exchange(
                Array("AUTH XOAUTH2 \(base64("user=\(user)\u{1}auth=Bearer \(password)\u{1}\u{1}"))\r\n".utf8),
                replies: 1, timeout: timeout, what: "AUTH")[0]
            if reply.code == 334 {
                // The server's JSON explanation; an empty line ends the exchange with the final answer.
                let explanation = reply.lines.first.flatMap { Data(base64Encoded: $0) }.map {
                    String(decoding: $0, as: UTF8.self)
                }
                reply = try await connection.exchange(Array("\r\n".utf8), replies: 1, timeout: timeout, what: "AUTH")[0]
                if let explanation { reply.lines.append(explanation) }
            }
        }
        if reply.code == 235 { return }
        if reply.isTransient { throw ReadyFailure.unavailable("authentication failed for now: \(reply)") }
        throw ReadyFailure.rejected("authentication failed: \(reply)")
    }

    private func deliver(_ message: OutgoingMessage, on connection: SMTPConnection) async throws -> TransportOutcome {
        let data = Self.dotStuffed(message.data)
        if let maxSize, data.count > maxSize {
            return .recipientRejected(
                "552 5.3.4 the message (\(data.count) bytes) is over the server's limit of \(maxSize)", .soft)
        }
        var mail = "MAIL FROM:<\(message.envelopeFrom)>"
        if capabilities.contains("SIZE") { mail += " SIZE=\(data.count)" }
        if capabilities.contains("8BITMIME"), message.data.contains(where: { $0 >= 128 }) { mail += " BODY=8BITMIME" }
        let commands = [mail + "\r\n", "RCPT TO:<\(message.recipient)>\r\n", "DATA\r\n"]
        var replies: [SMTPReply]
        if capabilities.contains("PIPELINING") {
            replies = try await connection.exchange(
                Array(commands.joined().utf8), replies: 3, timeout: timeout, what: "MAIL, RCPT and DATA")
        } else {
            replies = []
            for (index, command) in commands.enumerated() {
                let reply = try await connection.exchange(
                    Array(command.utf8), replies: 1, timeout: timeout, what: String(command.prefix(4)))[0]
                replies.append(reply)
                if index < 2, !reply.isPositive { break }
            }
        }
        let mailReply = replies[0]
        if let closing = replies.first(where: { $0.code == 421 }) {
            await drop()
            return .mailboxUnavailable("the server is closing the connection: \(closing)")
        }
        if !mailReply.isPositive {
            try await reset(connection, afterData: replies.count == 3 && replies[2].code == 354)
            return .mailboxUnavailable("the sender <\(message.envelopeFrom)> was refused: \(mailReply)")
        }
        let rcptReply = replies[1]
        if !rcptReply.isPositive {
            try await reset(connection, afterData: replies.count == 3 && replies[2].code == 354)
            if rcptReply.isTransient { return .temporaryFailure(rcptReply.description) }
            return .recipientRejected(rcptReply.description, Self.bounceClass(rcptReply))
        }
        let dataReply = replies[2]
        guard dataReply.code == 354 else {
            try await reset(connection, afterData: false)
            return dataReply.isTransient || !dataReply.isPermanent
                ? .temporaryFailure("DATA refused: \(dataReply)")
                : .recipientRejected(dataReply.description, Self.bounceClass(dataReply))
        }
        let final = try await connection.exchange(
            data, replies: 1, timeout: .seconds(configuration.dataTimeout), what: "the message's end")[0]
        if final.code == 421 {
            await drop()
            return .mailboxUnavailable("the server is closing the connection: \(final)")
        }
        if final.isPositive { return .accepted(providerMessageID: Self.queueID(final)) }
        if final.isTransient { return .temporaryFailure(final.description) }
        return .recipientRejected(final.description, Self.bounceClass(final))
    }

    /// Abandons the transaction. When the server already said 354, the data phase must be ended first.
    private func reset(_ connection: SMTPConnection, afterData: Bool) async throws {
        if afterData {
            _ = try await connection.exchange(Array(".\r\n".utf8), replies: 1, timeout: timeout, what: "an empty DATA")
        }
        _ = try await connection.exchange(Array("RSET\r\n".utf8), replies: 1, timeout: timeout, what: "RSET")
    }

    /// Hard when the reply says the address itself is bad (5.1.x, unknown user or domain).
    static func bounceClass(_ reply: SMTPReply) -> BounceClass {
        let text = Bytes.lowercased(reply.description.utf8)
        let status = Diagnosis.enhancedCode(in: text)
        return Diagnosis.reason(status: status, text: text, atRecipient: true).bounceClass
    }

    /// The server's queue id from `250 2.0.0 Ok: queued as 4Bx1yZ`, when it gives one.
    static func queueID(_ reply: SMTPReply) -> String? {
        let text = reply.lines.joined(separator: " ")
        guard let range = text.range(of: "queued as ", options: .caseInsensitive) else { return nil }
        let id = text[range.upperBound...].prefix { !$0.isWhitespace }
        return id.isEmpty ? nil : String(id)
    }

    /// The message with CRLF line ends, lines starting with "." doubled, and the final ".".
    static func dotStuffed(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + data.count / 40 + 5)
        var atLineStart = true
        var previous: UInt8 = 0
        for byte in data {
            if byte == 10, previous != 13 { out.append(13) }
            if atLineStart, byte == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            out.append(byte)
            atLineStart = byte == 10
            previous = byte
        }
        if !atLineStart { out += [13, 10] }
        out += [UInt8(ascii: "."), 13, 10]
        return out
    }

    static func tlsContext(_ configuration: SMTPConfiguration) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let file = configuration.trustFile {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
        }
        return try NIOSSLContext(configuration: tls)
    }
}
