import Foundation
import SeqbridgeCore
import SeqbridgeInbound
import SeqbridgeStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct XMLReportTests {
    func load(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: fixtureRoot.appendingPathComponent("dsn-xml/\(name)")))
    }

    @Test func readsSeveralRecipients() throws {
        let events = try XMLReports.parse(try load("three-recipients.xml"), receivedAt: receivedAt)
        #expect(events.count == 3)
        #expect(events.map(\.type) == [.bounced, .deferred, .bounced])
        #expect(events[0].bounceClass == .hard)
        #expect(events[0].delivery?.status == "5.1.1")
        #expect(events[1].bounceClass == nil)
        #expect(events[2].bounceClass == .soft)
        // One message id cannot say which of several recipients it was: each is matched by address.
        #expect(events.allSatisfy { $0.messageIDs.isEmpty })
        #expect(Set(events.map(\.eventID)).count == 3)
    }

    @Test func readsTheSpecExample() throws {
        let report = """
            <delivery-status-report>
              <reporting-mta>dns; mx.example.net</reporting-mta>
              <original-message-id>&lt;id@our.domain&gt;</original-message-id>
              <arrival-date>Mon, 2 Nov 2026 10:00:00 +0000</arrival-date>
              <recipient>
                <original-recipient>rfc822; someone@example.org</original-recipient>
                <final-recipient>rfc822; someone@example.org</final-recipient>
                <action>failed</action>
                <status>5.1.1</status>
                <remote-mta>dns; mx.example.org</remote-mta>
                <diagnostic-code>smtp; 550 5.1.1 mailbox does not exist</diagnostic-code>
                <last-attempt-date>Mon, 2 Nov 2026 10:00:05 +0000</last-attempt-date>
              </recipient>
            </delivery-status-report>
            """
        let events = try XMLReports.parse(Array(report.utf8), receivedAt: receivedAt)
        let event = try #require(events.first)
        #expect(event.type == .bounced)
        #expect(event.recipient == "someone@example.org")
        #expect(event.messageIDs == ["id@our.domain"])
        #expect(event.detail == "550 5.1.1 mailbox does not exist")
        #expect(event.bounceClass == .hard)
        #expect(event.delivery?.reason == "user_unknown")
        #expect(event.timestamp == Timestamp(millisecondsSinceEpoch: 1_793_613_605_000))
    }

    @Test(arguments: [
        ("malformed-unclosed.xml", "not well-formed at line"),
        ("wrong-root.xml", "root element is <"),
        ("missing-recipient.xml", "no <recipient>"),
        ("external-entity.xml", "external entity 'xxe' is not fetched"),
        ("billion-laughs.xml", "entity"),
        ("quadratic-blowup.xml", "exceeds the limit"),
    ])
    func refusesWithAReason(_ name: String, _ words: String) throws {
        let bytes = try load(name)
        let clock = ContinuousClock()
        let started = clock.now
        #expect {
            _ = try XMLReports.parse(bytes, receivedAt: receivedAt)
        } throws: { error in
            (error as? XMLReportError)?.description.contains(words) == true
        }
        // Not a timing test: a bomb must not run for anything like the time a full expansion takes.
        #expect(clock.now - started < .seconds(10))
    }

    /// External entities, general or parameter, are never fetched: a listener on
    /// loopback named by the entities sees no connection.
    @Test func externalEntitiesAreNeverFetched() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        listen(listener, 8)
        let port = UInt16(bigEndian: address.sin_port)
        let documents = [
            """
            <?xml version="1.0"?>
            <!DOCTYPE delivery-status-report [ <!ENTITY x SYSTEM "http://127.0.0.1:\(port)/x"> ]>
            <delivery-status-report><recipient><final-recipient>rfc822; a@b.example</final-recipient>
            <action>failed</action><diagnostic-code>&x;</diagnostic-code></recipient></delivery-status-report>
            """,
            """
            <?xml version="1.0"?>
            <!DOCTYPE delivery-status-report [ <!ENTITY % p SYSTEM "http://127.0.0.1:\(port)/p"> %p; ]>
            <delivery-status-report><recipient><final-recipient>rfc822; a@b.example</final-recipient>
            <action>failed</action></recipient></delivery-status-report>
            """,
            """
            <?xml version="1.0"?>
            <!DOCTYPE delivery-status-report SYSTEM "http://127.0.0.1:\(port)/dtd">
            <delivery-status-report><recipient><final-recipient>rfc822; a@b.example</final-recipient>
            <action>failed</action></recipient></delivery-status-report>
            """,
        ]
        for document in documents { _ = try? XMLReports.parse(Array(document.utf8), receivedAt: receivedAt) }
        // Nothing is waiting to be accepted.
        let flags = fcntl(listener, F_GETFL)
        _ = fcntl(listener, F_SETFL, flags | O_NONBLOCK)
        #expect(accept(listener, nil, nil) == -1)
    }
}
