import Foundation
import Testing

/// A real SMTP server (aiosmtpd, from `make test`'s virtual environment) on
/// loopback, with STARTTLS or implicit TLS on a certificate made for the test.
final class SMTPServer: @unchecked Sendable {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var python: String {
        ProcessInfo.processInfo.environment["SEQBRIDGE_TEST_PYTHON"]
            ?? root.appendingPathComponent(".venv-test/bin/python").path
    }

    let process = Process()
    let input = Pipe()
    let folder: URL
    let out: URL
    let port: Int
    let certificate: String

    init(tls: String = "starttls", auth: String? = "maya:s3cret", pipelining: Bool = true, xoauth2: String? = nil)
        throws
    {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("seqbridge-smtp-\(UUID().uuidString)")
        out = folder.appendingPathComponent("received")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        certificate = folder.appendingPathComponent("cert.pem").path
        let key = folder.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        var arguments = [Self.root.appendingPathComponent("Tests/Support/smtp_server.py").path, "--out", out.path]
        if tls != "none" { arguments += ["--cert", certificate, "--key", key] }
        if tls == "tls" { arguments.append("--implicit-tls") }
        if let auth { arguments += ["--auth", auth] }
        if pipelining { arguments.append("--pipelining") }
        if let xoauth2 { arguments += ["--xoauth2", xoauth2] }
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        let seen = output.firstLine()
        guard seen.hasPrefix("READY "),
            let port = Int(seen.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            throw SMTPServerError(description: "the test SMTP server did not start (\(Self.python)): \(seen)")
        }
        self.port = port
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// Every message received, in order: its bytes and its envelope.
    func received() throws -> [(message: String, envelope: [String: Any])] {
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".eml") }
            .sorted()
        return try names.map { name in
            let message = try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8)
            let json = try Data(
                contentsOf: out.appendingPathComponent(name.replacingOccurrences(of: ".eml", with: ".json")))
            return (message, try JSONSerialization.jsonObject(with: json) as! [String: Any])
        }
    }

    var connections: Int {
        (try? String(contentsOf: out.appendingPathComponent("sessions"), encoding: .utf8)).flatMap { Int($0) } ?? 0
    }

    func url(tls: String = "starttls", user: String? = "maya", host: String = "localhost") -> String {
        "smtp://\(user.map { "\($0)@" } ?? "")\(host):\(port)?tls=\(tls)&ca=\(certificate)"
    }
}

struct SMTPServerError: Error, CustomStringConvertible {
    var description: String
}

@Suite("SMTP sending", .serialized)
struct SMTPTests {
    /// A mailbox on `server` and a one-step sequence whose text exercises encoding and dot-stuffing.
    func setUp(_ cli: CLI, _ server: SMTPServer, url: String? = nil, grace: String = "1h") throws {
        try cli.run(
            "mailbox", "add", "outreach", "--from", "Maya at Brightside <maya@brightside.example>", "--transport",
            url ?? server.url(), "--password-env", "SMTP_PASS", "--failure-grace", grace, "--unsubscribe-url",
            "https://brightside.example/unsubscribe/{token}", "--unsubscribe-mailto", "unsubscribe@brightside.example")
        let sequence = cli.folder.appendingPathComponent("hello.yaml")
        try """
        name: hello
        mailbox: outreach
        steps:
          - wait: 0s
            subject: "Idée pour {{name}} ✨"
            body: "Hi {{name}},\\n.a line that starts with a dot\\n..and two\\nBye"
            html: "<p>Hi <b>{{name}}</b> &amp; team</p>"
          - wait: 3d
            subject: "Re: Idée pour {{name}}"
            body: "Following up."
        """.write(to: sequence, atomically: true, encoding: .utf8)
        try cli.run("sequence", "apply", sequence.path)
    }

    func enroll(_ cli: CLI, _ emails: [String]) throws {
        for email in emails {
            try cli.run("enroll", email, "--sequence", "hello", "--name", "Zoë", "--now", "2026-11-02T09:00:00Z")
        }
    }

    @Test func messagesArriveOverStartTLSWithAuthOnOneConnection() throws {
        let server = try SMTPServer()
        defer { server.stop() }
        var cli = try CLI()
        cli.environment["SMTP_PASS"] = "s3cret"
        try setUp(cli, server)
        try enroll(cli, ["ana@example.com", "ben@example.com", "cy@example.com"])
        let tick = try cli.run("tick", "--now", "2026-11-02T10:00:00Z")
        #expect(tick.stdout.contains("Sent 3 step(s)"))
        let received = try server.received()
        #expect(received.count == 3)
        #expect(server.connections == 1)
        for (message, envelope) in received {
            #expect(envelope["tls"] as? Bool == true)
            #expect(envelope["authenticated"] as? Bool == true)
            #expect(envelope["mail_from"] as? String == "maya@brightside.example")
            // The subject in UTF-8 encoded words, our Message-ID and token, and the dot lines as written.
            #expect(message.contains("Subject: =?UTF-8?B?"))
            #expect(message.contains("Message-ID: <sb."))
            #expect(message.contains("X-Seqbridge-Token: sbt_"))
            #expect(message.contains("\r\n.a line that starts with a dot\r\n..and two\r\n"))
            // A text and an HTML alternative; RFC 8058 one-click unsubscribe naming the enrollment.
            #expect(message.contains("Content-Type: multipart/alternative; boundary="))
            #expect(message.contains("Content-Type: text/html; charset=utf-8"))
            #expect(message.contains("<p>Hi <b>Zo=C3=AB</b> &amp; team</p>"))
            #expect(message.contains("List-Unsubscribe: <https://brightside.example/unsubscribe/sbt_"))
            #expect(message.contains(", <mailto:unsubscribe+sbt_"))
            #expect(message.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
        }
        let recipients = Set(received.flatMap { ($0.envelope["rcpt_tos"] as? [String]) ?? [] })
        #expect(recipients == ["ana@example.com", "ben@example.com", "cy@example.com"])
        #expect(try cli.exportRows().allSatisfy { $0["status"] as? String == "in_progress" })
    }

    @Test func implicitTLSAndNoPipeliningWork() throws {
        let server = try SMTPServer(tls: "tls", pipelining: false)
        defer { server.stop() }
        var cli = try CLI()
        cli.environment["SMTP_PASS"] = "s3cret"
        try setUp(cli, server, url: server.url(tls: "tls"))
        try enroll(cli, ["ana@example.com", "ben@example.com"])
        try cli.run("tick", "--now", "2026-11-02T10:00:00Z")
        #expect(try server.received().count == 2)
        #expect(server.connections == 1)
    }

    @Test func xoauth2SendsTheBearerToken() throws {
        let server = try SMTPServer(xoauth2: "maya@brightside.example:ya29.token-value")
        defer { server.stop() }
        var cli = try CLI()
        cli.environment["SMTP_PASS"] = "ya29.token-value"
        try setUp(cli, server, url: server.url(user: "maya%40brightside.example") + "&auth=xoauth2")
        try enroll(cli, ["ana@example.com"])
        try cli.run("tick", "--now", "2026-11-02T10:00:00Z")
        #expect(try server.received().count == 1)
        var expired = cli
        expired.environment["SMTP_PASS"] = "expired-token"
        let test = try expired.run("mailbox", "test", "outreach", expect: 1)
        #expect(test.stderr.contains("authentication failed"))
    }

    @Test func refusedCredentialsDisconnectTheMailboxAndStopEveryoneInFlight() throws {
        let server = try SMTPServer()
        defer { server.stop() }
        var cli = try CLI()
        cli.environment["SMTP_PASS"] = "wrong"
        try setUp(cli, server)
        try enroll(cli, ["ana@example.com", "ben@example.com"])
        let test = try cli.run("mailbox", "test", "outreach", expect: 1)
        #expect(test.stderr.contains("535"))
        try cli.run("tick", "--now", "2026-11-02T10:00:00Z")
        #expect(try server.received().isEmpty)
        for row in try cli.exportRows() {
            #expect(row["status"] as? String == "error")
            #expect(row["reason"] as? String == "mailbox_disconnected")
            #expect((row["detail"] as? String)?.contains("535") == true)
        }
        #expect(try cli.run("mailbox", "list").stdout.contains("disconnected"))
        // Reconnecting checks the credentials first: still wrong, still disconnected.
        try cli.run("mailbox", "reconnect", "outreach", expect: 1)
        #expect(try cli.run("mailbox", "list").stdout.contains("disconnected"))
        var fixed = cli
        fixed.environment["SMTP_PASS"] = "s3cret"
        let reconnect = try fixed.run("mailbox", "reconnect", "outreach")
        #expect(reconnect.stdout.contains("authenticated as maya"))
    }

    @Test func recipientAnswersBecomeBouncesOrRetries() throws {
        let server = try SMTPServer()
        defer { server.stop() }
        var cli = try CLI()
        cli.environment["SMTP_PASS"] = "s3cret"
        try setUp(cli, server)
        try enroll(cli, ["reject-ana@example.com", "full-ben@example.com", "later-cy@example.com", "dee@example.com"])
        let tick = try cli.run("tick", "--now", "2026-11-02T10:00:00Z")
        #expect(tick.stdout.contains("Sent 1 step(s); 1 deferred; 2 bounced."))
        let rows = Dictionary(uniqueKeysWithValues: try cli.exportRows().map { ($0["email"] as! String, $0) })
        #expect(rows["reject-ana@example.com"]?["status"] as? String == "error")
        #expect(rows["reject-ana@example.com"]?["reason"] as? String == "bounced")
        #expect((rows["reject-ana@example.com"]?["detail"] as? String)?.hasPrefix("550 5.1.1") == true)
        #expect(rows["full-ben@example.com"]?["status"] as? String == "error")
        // A hard bounce suppresses the address; a full mailbox does not.
        let suppressed = try cli.run("suppression", "list").stdout
        #expect(suppressed.contains("reject-ana@example.com"))
        #expect(!suppressed.contains("full-ben@example.com"))
        // 451: nothing changes; the step waits and is tried again later.
        #expect(rows["later-cy@example.com"]?["status"] as? String == "scheduled")
        #expect(try cli.run("show", "later-cy@example.com").stdout.contains("451 4.3.0"))
        #expect(rows["dee@example.com"]?["status"] as? String == "in_progress")
        #expect(try cli.run("mailbox", "list").stdout.contains("connected"))
    }

    @Test func anUnreachableServerIsRetriedThenDisconnectedAfterTheGrace() throws {
        let server = try SMTPServer()
        let port = server.port
        server.stop()  // Nothing listens on the port any more.
        var cli = try CLI()
        cli.environment["SMTP_PASS"] = "s3cret"
        try setUp(cli, server, url: "smtp://maya@127.0.0.1:\(port)?tls=starttls&timeout=5", grace: "30m")
        try enroll(cli, ["ana@example.com", "ben@example.com"])
        let first = try cli.run("tick", "--now", "2026-11-02T10:00:00Z")
        #expect(first.stdout.contains("0 bounced"))
        #expect(try cli.exportRows().allSatisfy { $0["status"] as? String == "scheduled" })
        let list = try cli.run("mailbox", "list").stdout
        #expect(!list.contains("disconnected"))
        #expect(list.contains("(failing since 2026-11-02T10:00:00Z:"))
        // Still failing 40 minutes later: beyond the 30-minute grace, the mailbox is disconnected.
        let second = try cli.run("tick", "--now", "2026-11-02T10:40:00Z")
        #expect(second.stderr.contains("Mailbox 'outreach' was disconnected"))
        #expect(try cli.run("mailbox", "list").stdout.contains("disconnected"))
        for row in try cli.exportRows() {
            #expect(row["reason"] as? String == "mailbox_disconnected")
            #expect((row["detail"] as? String)?.contains("failing since 2026-11-02T10:00:00") == true)
        }
    }

    @Test func aSecretIsNeverStoredOrPrinted() throws {
        let server = try SMTPServer()
        defer { server.stop() }
        var cli = try CLI()
        cli.environment["SMTP_PASS"] = "s3cret-value-42"
        try setUp(cli, server)
        let list = try cli.run("mailbox", "list").stdout
        #expect(list.contains("password_env=SMTP_PASS"))
        #expect(!list.contains("s3cret-value-42"))
        let database = try Data(contentsOf: URL(fileURLWithPath: cli.database))
        #expect(database.range(of: Data("s3cret-value-42".utf8)) == nil)
        let refused = try cli.run(
            "mailbox", "add", "other", "--from", "x@brightside.example", "--transport",
            "smtp://maya:pw@localhost:25?tls=starttls", expect: 1)
        #expect(refused.stderr.contains("never goes in the URL"))
        let plain = try cli.run(
            "mailbox", "add", "other", "--from", "x@brightside.example", "--transport",
            "smtp://maya@mail.example.com:25?tls=none", expect: 1)
        #expect(plain.stderr.contains("only allowed for a server on this machine"))
    }

    /// kill -9 in the middle of a tick sending 1,000 messages; a second tick
    /// finishes. Every step reaches the server once, or is reported unconfirmed.
    @Test func aKilledTickNeverSendsTwice() throws {
        let server = try SMTPServer()
        defer { server.stop() }
        var cli = try CLI()
        cli.environment["SMTP_PASS"] = "s3cret"
        try setUp(cli, server)
        let csv = cli.folder.appendingPathComponent("list.csv")
        try (["email,name"] + (0..<1000).map { "person\($0)@example.com,Person \($0)" }).joined(separator: "\n")
            .write(to: csv, atomically: true, encoding: .utf8)
        try cli.run("import", csv.path, "--sequence", "hello", "--now", "2026-11-02T09:00:00Z")
        var killed = cli
        killed.environment["SEQBRIDGE_FAULT_KILL_AFTER_SENDS"] = "400"
        let crash = try killed.run(["tick", "--now", "2026-11-02T10:00:00Z"])
        #expect(crash.status != 0)
        try cli.run("tick", "--now", "2026-11-02T10:00:00Z")
        let received = try server.received().flatMap { ($0.envelope["rcpt_tos"] as? [String]) ?? [] }
        #expect(Set(received).count == received.count, "a step reached the server twice")
        let status = try cli.run("status", "--json").stdout
        let unconfirmed =
            (try JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any])?["unconfirmed"] as? Int ?? -1
        // Confirmed steps all reached the server; the rest are reported unconfirmed.
        let rows = try cli.exportRows()
        let confirmed = rows.filter { $0["steps_sent"] as? Int == 1 }.map { $0["email"] as! String }
        #expect(Set(confirmed).isSubset(of: Set(received)))
        #expect(confirmed.count + unconfirmed == 1000)
        #expect(received.count >= 400)
    }
}
