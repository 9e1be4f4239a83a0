import Foundation
import Hummingbird
import HummingbirdTesting
import SeqbridgeCore
import SeqbridgeSQLite
import SeqbridgeStore
import Testing

@testable import SeqbridgeApp
@testable import SeqbridgeHTTP
@testable import SeqbridgeMail

func at(_ text: String) -> Timestamp { Timestamp(iso8601: text)! }

/// An engine on a fresh database file, sending to a temporary outbox folder.
struct Harness {
    let folder: URL
    var engine: Engine
    var outbox: String { folder.appendingPathComponent("outbox").path }

    init(transport: (any MailTransport)? = nil) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("seqbridge-app-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: folder.appendingPathComponent("db.sqlite").path)
        let base = folder.path
        engine = Engine(
            store: store, ids: SequentialIdentifiers(),
            transports: { mailbox in
                if let transport { return transport }
                return try TransportURL.transport(for: mailbox.definition.transport, relativeTo: base)
            })
    }

    func seed(_ yaml: String) async throws {
        try await engine.addMailbox(
            name: "outreach", from: "Maya at Brand <maya@brand.example>", transport: "file://outbox",
            now: at("2026-11-01T00:00:00Z"))
        let file = folder.appendingPathComponent("sequence.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        _ = try await engine.applySequence(file: file.path, now: at("2026-11-01T00:00:00Z"))
    }

    func outboxFiles() throws -> [String] {
        guard FileManager.default.fileExists(atPath: outbox) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: outbox).filter { $0.hasSuffix(".eml") }.sorted()
    }
}

let twoSteps = """
    name: launch
    mailbox: outreach
    steps:
      - wait: 1h
        subject: "Hi {{first_name}} & team"
        body: "Hello {{first_name}} <3, about {{handle}}"
      - wait: 2d
        subject: "Again, {{first_name}}"
        body: "Following up."
    """

@Suite("Scheduler with the file transport")
struct TickTests {
    @Test func sendsDueStepsAsCompleteMessages() async throws {
        let harness = try Harness()
        try await harness.seed(twoSteps)
        try await harness.engine.enroll(
            email: "Ana@Example.com", sequence: "launch", name: "Ana Lima", fields: ["handle": "@ana"], force: false,
            now: at("2026-11-02T09:00:00Z"))
        #expect(try await harness.engine.tick(now: at("2026-11-02T09:59:00Z")).sent == 0)
        #expect(try harness.outboxFiles().isEmpty)

        let report = try await harness.engine.tick(now: at("2026-11-02T10:00:00Z"))
        #expect(report.sent == 1)
        let files = try harness.outboxFiles()
        #expect(files.count == 1)
        let text = try String(contentsOfFile: harness.outbox + "/" + files[0], encoding: .utf8)
        #expect(text.contains("From: Maya at Brand <maya@brand.example>\r\n"))
        #expect(text.contains("To: Ana Lima <ana@example.com>\r\n"))
        // Text mail: the values are not HTML-escaped.
        #expect(text.contains("Subject: Hi Ana & team\r\n"))
        #expect(text.contains("\r\n\r\nHello Ana <3, about @ana"))
        #expect(text.contains("Date: Mon, 02 Nov 2026 10:00:00 +0000\r\n"))
        #expect(text.contains("Message-ID: <sb.t2@brand.example>\r\n"))
        #expect(text.contains("X-Seqbridge-Token: sbt_t1\r\n"))

        // Ticking again at the same time sends nothing twice.
        #expect(try await harness.engine.tick(now: at("2026-11-02T10:00:00Z")).sent == 0)
        #expect(try harness.outboxFiles().count == 1)
    }

    @Test func missingFieldIsAnErrorForThatStepNotABlank() async throws {
        let harness = try Harness()
        try await harness.seed(twoSteps)
        try await harness.engine.enroll(
            email: "ben@example.com", sequence: "launch", name: "Ben", force: false, now: at("2026-11-02T09:00:00Z"))
        try await harness.engine.enroll(
            email: "cy@example.com", sequence: "launch", name: "Cy", fields: ["handle": "@cy"], force: false,
            now: at("2026-11-02T09:00:00Z"))
        let report = try await harness.engine.tick(now: at("2026-11-02T10:00:00Z"))
        #expect(report.sent == 1)
        #expect(report.renderFailures.count == 1)
        #expect(report.renderFailures[0].contains("ben@example.com"))
        #expect(report.renderFailures[0].contains("'handle'"))
        let history = try #require(try await harness.engine.store.history(email: "ben@example.com"))
        #expect(history.enrollments[0].row.status == .scheduled)
        #expect(history.enrollments[0].events.contains { $0.type == .renderFailed })
        #expect(Presenting.next(history.enrollments[0])?.contains("could not be rendered") == true)
        // Repeated ticks do not flood the history with the same problem.
        _ = try await harness.engine.tick(now: at("2026-11-02T10:05:00Z"))
        let again = try #require(try await harness.engine.store.history(email: "ben@example.com"))
        #expect(again.enrollments[0].events.filter { $0.type == .renderFailed }.count == 1)
    }

    @Test func temporaryTransportFailureRetriesLater() async throws {
        let harness = try Harness(transport: FlakyTransport())
        try await harness.seed(twoSteps)
        try await harness.engine.enroll(
            email: "ana@example.com", sequence: "launch", name: "Ana", fields: ["handle": "@a"], force: false,
            now: at("2026-11-02T09:00:00Z"))
        let first = try await harness.engine.tick(now: at("2026-11-02T10:00:00Z"))
        #expect(first.deferred == 1)
        #expect(try await harness.engine.tick(now: at("2026-11-02T10:04:00Z")).sent == 0)
        #expect(try await harness.engine.tick(now: at("2026-11-02T10:05:00Z")).sent == 1)
        let history = try #require(try await harness.engine.store.history(email: "ana@example.com"))
        #expect(history.enrollments[0].row.status == .inProgress)
        #expect(history.enrollments[0].events.map(\.type) == [.enrolled, .sendDeferred, .stepSent])
    }

    @Test func manyEnrollmentsAcrossSeveralBatches() async throws {
        var harness = try Harness()
        try await harness.seed(
            """
            name: launch
            mailbox: outreach
            steps:
              - wait: 0
                subject: "Hello"
                body: "Hi"
            """)
        harness.engine.batchSize = 7
        for index in 0..<40 {
            try await harness.engine.enroll(
                email: "i\(index)@example.com", sequence: "launch", name: nil, force: false,
                now: at("2026-11-02T09:00:00Z"))
        }
        #expect(try await harness.engine.tick(now: at("2026-11-02T09:00:00Z")).sent == 40)
        #expect(try harness.outboxFiles().count == 40)
        let counts = try await harness.engine.store.statusCounts(sequence: nil)
        #expect(counts == [StatusCount(sequence: "launch", status: .finished, reason: .completed, count: 40)])
    }
}

/// Fails the first message it sees, then accepts everything.
final class FlakyTransport: MailTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var failed = false

    func send(_ message: OutgoingMessage) async -> TransportOutcome {
        let fail = lock.withLock {
            defer { failed = true }
            return !failed
        }
        return fail ? .temporaryFailure("421 try again later") : .accepted(providerMessageID: nil)
    }
}

@Suite("Sequence files")
struct SequenceFileTests {
    @Test func parsesTheSpecExample() throws {
        let definition = try SequenceFile.parse(twoSteps, file: "s.yaml")
        #expect(definition.name == "launch")
        #expect(definition.steps.map(\.wait.seconds) == [3600, 172_800])
    }

    @Test(arguments: [
        ("name: x\nmailbox: m\nsteps:\n  - wait: 3x\n    subject: s\n    body: b\n", 4, "wait '3x' is not a duration"),
        ("name: x\nmailbox: m\nsteps: []\n", 3, "at least one step"),
        ("name: x\nsteps:\n  - wait: 1h\n", 1, "'mailbox' is missing"),
        (
            "name: x\nmailbox: m\nsteps:\n  - wait: 1h\n    subject: s\n    body: b\n    colour: red\n", 7,
            "unknown key 'colour'"
        ),
        (
            "name: x\nmailbox: m\nsteps:\n  - wait: 1h\n    subject: \"{{#a}}\"\n    body: b\n", 5,
            "not a valid template"
        ),
        ("name: [x\nmailbox: m\n", 2, "not valid YAML"),
    ])
    func badFilesNameTheLine(text: String, line: Int, message: String) {
        do {
            _ = try SequenceFile.parse(text, file: "bad.yaml")
            Issue.record("parsed")
        } catch {
            #expect("\(error)".hasPrefix("bad.yaml, line \(line): "), "\(error)")
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}

@Suite("Messages")
struct MessageTests {
    @Test func nonASCIIHeadersAndBodiesAreEncoded() {
        let message = MessageComposer.compose(
            .init(
                from: Mailbox(name: "Zoë", address: "zoe@brand.example"),
                to: Mailbox(name: "Chloé Martin", address: "chloe@example.net"),
                subject: "Une idée pour toi, Chloé — 🌞", textBody: "Bonjour Chloé,\nÀ bientôt!\n",
                date: at("2026-11-02T10:00:00Z"), messageID: "x1@brand.example", enrollmentToken: "tok"))
        let text = String(decoding: message.data, as: UTF8.self)
        #expect(text.utf8.allSatisfy { $0 < 128 })
        #expect(text.contains("From: =?UTF-8?B?"))
        #expect(text.contains("Subject: =?UTF-8?B?"))
        #expect(text.contains("Content-Transfer-Encoding: quoted-printable"))
        #expect(text.contains("Bonjour Chlo=C3=A9,\r\n=C3=80 bient=C3=B4t!"))
        #expect(!text.contains("\n\n"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    @Test func namesWithSpecialsAreQuoted() {
        #expect(
            MessageComposer.address(Mailbox(name: "Lima, Ana", address: "a@x.example")) == "\"Lima, Ana\" <a@x.example>"
        )
        #expect(MessageComposer.address(Mailbox(name: nil, address: "a@x.example")) == "<a@x.example>")
    }

    @Test func fromHeaderParsing() {
        #expect(Engine.parseFrom("Maya <maya@brand.example>")?.name == "Maya")
        #expect(Engine.parseFrom("\"Maya B\" <Maya@Brand.example>")?.address.value == "maya@brand.example")
        #expect(Engine.parseFrom("maya@brand.example")?.name == nil)
        #expect(Engine.parseFrom("Maya") == nil)
    }
}

@Suite("Report formats")
struct ReportTests {
    let row = ExportRow(
        email: "ana@example.com", name: "=HYPERLINK(\"http://x\")", sequence: "launch", status: .error,
        reason: .bounced, stepsSent: 1, stepsTotal: 3, enrolledAt: at("2026-11-02T09:00:00Z"),
        lastSentAt: at("2026-11-02T10:00:00Z"), nextSendAt: nil, finishedAt: at("2026-11-03T10:00:00Z"),
        detail: "550 5.1.1 user unknown, \"quoted\"\nsecond line")

    @Test func csvHasTheSpecColumnsAndNeutralisesFormulas() {
        #expect(
            Report.csvHeader()
                == "email,name,sequence,status,reason,steps_sent,steps_total,enrolled_at,last_sent_at,next_send_at,finished_at,detail\r\n"
        )
        #expect(
            Report.csvLine(row)
                == "ana@example.com,\"'=HYPERLINK(\"\"http://x\"\")\",launch,error,bounced,1,3,2026-11-02T09:00:00Z,2026-11-02T10:00:00Z,,2026-11-03T10:00:00Z,\"550 5.1.1 user unknown, \"\"quoted\"\"\nsecond line\"\r\n"
        )
        for dangerous in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            #expect(Report.csvCell(dangerous).hasPrefix("'") || Report.csvCell(dangerous).hasPrefix("\"'"))
        }
    }

    @Test func jsonLinesUseTheSameKeys() throws {
        let line = Report.jsonLine(row)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(Set(object.keys) == Set(Report.columns))
        #expect(object["steps_sent"] as? Int == 1)
        #expect(object["next_send_at"] is NSNull)
        #expect(object["detail"] as? String == "550 5.1.1 user unknown, \"quoted\"\nsecond line")
        #expect(line.hasSuffix("}\n"))
    }

    @Test func exportToAFileIsAtomic() async throws {
        let harness = try Harness()
        try await harness.seed(twoSteps)
        try await harness.engine.enroll(
            email: "a@example.com", sequence: "launch", name: nil, force: false, now: at("2026-11-02T09:00:00Z"))
        let out = harness.folder.appendingPathComponent("report.csv").path
        #expect(try await harness.engine.export(format: .csv, filter: ExportFilter(), to: out) == 1)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.split(separator: "\r\n").count == 2)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: harness.folder.path).allSatisfy {
                !$0.hasSuffix(".partial")
            })
        await #expect(throws: AppError.self) {
            _ = try await harness.engine.export(format: .csv, filter: ExportFilter(), to: "/nonexistent/dir/r.csv")
        }
    }
}

@Suite("HTTP")
struct HTTPTests {
    @Test func healthzAnswersWhenTheDatabaseDoes() async throws {
        let harness = try Harness()
        let app = Application(router: buildRouter(engine: harness.engine))
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"ok\""))
            }
        }
    }
}
