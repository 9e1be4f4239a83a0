import Foundation
import Testing

@Suite("Inbound mail end to end")
struct InboundEndToEndTests {
    /// A Postfix-style RFC 3464 bounce for one of our messages.
    func dsn(for messageID: String, recipient: String, status: String, action: String, diagnostic: String) -> String {
        """
        From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
        To: outreach@brand.example
        Subject: Undelivered Mail Returned to Sender
        Date: Mon, 2 Nov 2026 10:05:00 +0000
        Message-ID: <dsn-\(recipient)-\(action)@mx.example.net>
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="B"

        --B
        Content-Type: text/plain

        This is the mail system at host mx.example.net.

        --B
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.net

        Final-Recipient: rfc822; \(recipient)
        Action: \(action)
        Status: \(status)
        Diagnostic-Code: smtp; \(diagnostic)

        --B
        Content-Type: text/rfc822-headers

        Message-ID: <\(messageID)>
        To: \(recipient)

        --B--

        """
    }

    @Test func emailThroughTheRunningServerReachesTheExport() async throws {
        let cli = try CLI()
        let ids = try WebhookEndToEndTests().sentMessages(cli)
        let server = try Server(cli)
        defer { server.stop() }

        // A hard bounce as MIME: Ben is in Error.
        var (status, body) = try await server.post(
            "/reports/dsn",
            dsn(
                for: ids["ben@example.com"]!, recipient: "ben@example.com", status: "5.1.1", action: "failed",
                diagnostic: "550 5.1.1 <ben@example.com>: Recipient address rejected: User unknown"),
            contentType: "message/rfc822")
        #expect(status == 200)
        #expect(body.contains(#""applied":1"#))
        // The provider retries: nothing new.
        (status, body) = try await server.post(
            "/reports/dsn",
            dsn(
                for: ids["ben@example.com"]!, recipient: "ben@example.com", status: "5.1.1", action: "failed",
                diagnostic: "550 5.1.1 <ben@example.com>: Recipient address rejected: User unknown"),
            contentType: "message/rfc822")
        #expect(body.contains(#""duplicates":1"#))

        // A delay warning as XML and an out-of-office for Cy: still in progress.
        let xml = """
            <delivery-status-report>
              <original-message-id>&lt;\(ids["cy@example.com"]!)&gt;</original-message-id>
              <recipient><final-recipient>rfc822; cy@example.com</final-recipient><action>delayed</action>
              <status>4.2.2</status><diagnostic-code>smtp; 452 4.2.2 mailbox full</diagnostic-code></recipient>
            </delivery-status-report>
            """
        (status, _) = try await server.post("/reports/dsn", xml, contentType: "application/xml")
        #expect(status == 200)
        let outOfOffice = """
            From: Cy <cy@example.com>
            To: outreach@brand.example
            Subject: Out of Office: Collab idea
            Auto-Submitted: auto-replied
            In-Reply-To: <\(ids["cy@example.com"]!)>
            Message-ID: <oof-1@example.com>

            I am away until Monday.
            """
        (status, _) = try await server.post("/inbound/raw", outOfOffice, contentType: "message/rfc822")
        #expect(status == 200)

        // Ana answers from another address: matched by In-Reply-To, Finished (replied).
        let reply = """
            From: Ana <ana.work@example.org>
            To: outreach@brand.example
            Subject: Re: Collab idea
            In-Reply-To: <\(ids["ana@example.com"]!)>
            Message-ID: <reply-1@example.org>
            Date: Mon, 2 Nov 2026 12:00:00 +0000

            Sounds great, tell me more!
            """
        (status, body) = try await server.post("/inbound/raw", reply, contentType: "message/rfc822")
        #expect(status == 200)
        #expect(body.contains(#""applied":1"#))

        // Refusals: an entity bomb, an empty message, a report that is not one, an unknown source.
        let bomb = """
            <?xml version="1.0"?>
            <!DOCTYPE delivery-status-report [
              <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
              <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
              <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
              <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
            ]>
            <delivery-status-report><recipient><final-recipient>rfc822; cy@example.com</final-recipient>
            <action>failed</action><diagnostic-code>&d;</diagnostic-code></recipient></delivery-status-report>
            """
        (status, body) = try await server.post("/reports/dsn", bomb, contentType: "application/xml")
        #expect(status == 400)
        #expect(body.contains("entit"))
        (status, _) = try await server.post("/inbound/raw", "", contentType: "message/rfc822")
        #expect(status == 400)
        (status, body) = try await server.post("/reports/dsn", reply, contentType: "message/rfc822")
        #expect(status == 400)
        #expect(body.contains("not a delivery status report"))
        (status, _) = try await server.post("/inbound/nowhere", reply, contentType: "message/rfc822")
        #expect(status == 404)

        let rows = Dictionary(uniqueKeysWithValues: try cli.exportRows().map { ($0["email"] as! String, $0) })
        #expect(rows["ana@example.com"]?["status"] as? String == "finished")
        #expect(rows["ana@example.com"]?["reason"] as? String == "replied")
        #expect(rows["ben@example.com"]?["status"] as? String == "error")
        #expect(rows["ben@example.com"]?["reason"] as? String == "bounced")
        #expect((rows["ben@example.com"]?["detail"] as? String)?.contains("550 5.1.1") == true)
        #expect(rows["cy@example.com"]?["status"] as? String == "in_progress")
        let show = try cli.run(["show", "cy@example.com"])
        #expect(show.stdout.contains("auto_replied"))
        #expect(show.stdout.contains("deferred"))
    }

    @Test func ingestPrintsOneLinePerRecipientWithTheMatchedMessage() throws {
        let cli = try CLI()
        let ids = try WebhookEndToEndTests().sentMessages(cli)
        let report = """
            From: MAILER-DAEMON@mx.example.net
            To: outreach@brand.example
            Subject: Delivery Status Notification (Failure)
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=delivery-status; boundary=Z

            --Z
            Content-Type: message/delivery-status

            Reporting-MTA: dns; mx.example.net
            Original-Message-ID: <\(ids["ana@example.com"]!)>

            Final-Recipient: rfc822; ana@example.com
            Action: failed
            Status: 5.2.2
            Diagnostic-Code: smtp; 552 5.2.2 mailbox full

            Final-Recipient: rfc822; ben@example.com
            Action: delayed
            Status: 4.4.1
            Diagnostic-Code: smtp; 421 4.4.1 connection timed out

            Final-Recipient: rfc822; cy@example.com
            Action: failed
            Status: 5.1.2
            Diagnostic-Code: smtp; 550 5.1.2 host unknown

            --Z
            Content-Type: text/rfc822-headers

            Message-ID: <\(ids["ana@example.com"]!)>
            To: ana@example.com

            --Z--
            """
        let file = cli.folder.appendingPathComponent("report.eml")
        try Data(report.utf8).write(to: file)
        let result = try cli.run(["ingest", file.path, "--source", "dsn", "--dry-run", "--json"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map {
            try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        #expect(lines.count == 3)
        #expect(lines.map { $0["type"] as? String } == ["bounced", "deferred", "bounced"])
        #expect(lines.map { $0["bounce_class"] as? String } == ["soft", nil, "hard"])
        #expect(lines.map { $0["reason"] as? String } == ["mailbox_full", "network", "domain_unknown"])
        #expect(lines.map { $0["status"] as? String } == ["5.2.2", "4.4.1", "5.1.2"])
        #expect(lines.map { $0["action"] as? String } == ["failed", "delayed", "failed"])
        let matched = lines[0]["matched"] as? [String: Any]
        #expect(matched?["message_id"] as? String == ids["ana@example.com"])
        #expect(matched?["how"] as? String == "message_id")
        // The other recipients are not that message's: each is matched by its address, flagged weak.
        let weak = lines[2]["matched"] as? [String: Any]
        #expect(weak?["email"] as? String == "cy@example.com")
        #expect(weak?["how"] as? String == "recipient")
        // A dry run stores nothing.
        #expect(try cli.exportRows().allSatisfy { $0["status"] as? String == "in_progress" })
    }
}
