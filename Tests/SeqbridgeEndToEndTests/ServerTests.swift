import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension Pipe {
    /// What the process wrote up to its first line end (or until it closed the pipe).
    func firstLine() -> String {
        var seen = ""
        while !seen.contains("\n") {
            let chunk = fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        return seen
    }
}

/// `seqbridge serve` on loopback, with its address read from its first line.
final class Server: @unchecked Sendable {
    let process: Process
    /// What the server wrote first: where it listens.
    let started: String
    let url: String

    /// `tickInterval` 0 runs no scheduler; `standardError` takes the log.
    init(
        _ cli: CLI, tickInterval: Int = 0, environment extra: [String: String] = [:],
        standardError: Any = FileHandle.nullDevice
    ) throws {
        process = cli.process(["serve", "--port", "0", "--tick-interval", "\(tickInterval)"])
        var environment = process.environment ?? [:]
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = standardError
        try process.run()
        started = out.firstLine()
        url = started.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func post(_ path: String, _ body: String, contentType: String = "application/json") async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: url + path)!)
        request.httpMethod = "POST"
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}

@Suite("Webhooks end to end")
struct WebhookEndToEndTests {
    /// Enrols three influencers, sends step 1, and returns each one's Message-ID.
    func sentMessages(_ cli: CLI) throws -> [String: String] {
        try cli.setUpSamples()
        for (email, name) in [("ana@example.com", "Ana"), ("ben@example.com", "Ben"), ("cy@example.com", "Cy")] {
            try cli.run("enroll", email, "--sequence", "summer-launch", "--name", name, "--now", "2026-11-02T09:00:00Z")
        }
        try cli.run("tick", "--now", "2026-11-02T10:00:00Z")
        var ids: [String: String] = [:]
        for file in try cli.outbox() {
            let text = try String(contentsOf: cli.folder.appendingPathComponent("outbox/\(file)"), encoding: .utf8)
            let lines = text.split(separator: "\r\n")
            let to = lines.first { $0.hasPrefix("To: ") }!.split(separator: "<").last!.dropLast()
            let id = lines.first { $0.hasPrefix("Message-ID: <") }!.dropFirst("Message-ID: <".count).dropLast()
            ids[String(to)] = String(id)
        }
        return ids
    }

    @Test func providerEventsThroughTheRunningServerReachTheExport() async throws {
        let cli = try CLI()
        let ids = try sentMessages(cli)
        let server = try Server(cli)
        defer { server.stop() }
        func generic(_ type: String, _ email: String, _ time: String, extra: String = "") -> String {
            #"{"type":"\#(type)","message_id":"<\#(ids[email]!)>","recipient":"\#(email)","timestamp":"\#(time)","event_id":"\#(type)-\#(email)"\#(extra)}"#
        }
        // Out of order: the reply arrives before the delivery report.
        var (status, body) = try await server.post(
            "/webhooks/generic",
            "[" + generic("replied", "ana@example.com", "2026-11-02T12:00:00Z") + ","
                + generic("delivered", "ana@example.com", "2026-11-02T10:00:05Z") + "]")
        #expect(status == 200)
        #expect(body.contains(#""applied":2"#))
        (status, _) = try await server.post(
            "/webhooks/generic",
            generic(
                "bounced", "ben@example.com", "2026-11-02T10:01:00Z",
                extra: #","bounce_class":"hard","detail":"550 5.1.1 user unknown""#))
        #expect(status == 200)
        // A provider retry changes nothing.
        (status, body) = try await server.post(
            "/webhooks/generic",
            generic(
                "bounced", "ben@example.com", "2026-11-02T10:01:00Z",
                extra: #","bounce_class":"hard","detail":"550 5.1.1 user unknown""#))
        #expect(body.contains(#""duplicates":1"#))
        // An out-of-office never stops the sequence.
        (status, _) = try await server.post(
            "/webhooks/generic", generic("auto_replied", "cy@example.com", "2026-11-02T10:30:00Z"))
        #expect(status == 200)
        (status, _) = try await server.post("/webhooks/generic", "{broken")
        #expect(status == 400)

        let rows = Dictionary(uniqueKeysWithValues: try cli.exportRows().map { ($0["email"] as! String, $0) })
        #expect(rows["ana@example.com"]?["reason"] as? String == "replied")
        #expect(rows["ben@example.com"]?["status"] as? String == "error")
        #expect(rows["ben@example.com"]?["detail"] as? String == "550 5.1.1 user unknown")
        #expect(rows["cy@example.com"]?["status"] as? String == "in_progress")
        let metrics = try await URLSession.shared.data(from: URL(string: server.url + "/metrics")!)
        #expect(String(decoding: metrics.0, as: UTF8.self).contains("seqbridge_webhook_requests_total"))
    }

    /// SIGTERM (or Ctrl-C) with the scheduler running stops the service
    /// cleanly: exit status 0, nothing reported as an error.
    @Test func aStopSignalEndsTheServiceCleanly() throws {
        let cli = try CLI()
        try cli.setUpSamples()
        for signal in [SIGTERM, SIGINT] {
            let errors = Pipe()
            let server = try Server(cli, tickInterval: 60, standardError: errors)
            #expect(server.started.contains("listening on"))
            Foundation.kill(server.process.processIdentifier, signal)
            server.process.waitUntilExit()
            let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(server.process.terminationStatus == 0, "stderr: \(said)")
            #expect(!said.contains("Error"), "stderr: \(said)")
        }
    }

    /// Logging into a pipe nobody reads any more (a log collector that went
    /// away) fails those writes; the service goes on answering.
    @Test func aClosedLogPipeDoesNotStopTheService() async throws {
        let cli = try CLI()
        let errors = Pipe()
        let server = try Server(cli, standardError: errors)
        try errors.fileHandleForReading.close()
        let base = try #require(server.url.isEmpty ? nil : server.url)
        // Refused with a warning in the log, which cannot be written.
        let (refused, _) = try await server.post("/webhooks/generic", "{broken")
        #expect(refused == 400)
        let (_, health) = try await URLSession.shared.data(from: URL(string: base + "/healthz")!)
        #expect((health as? HTTPURLResponse)?.statusCode == 200)
        #expect(server.process.isRunning)
        server.stop()
        #expect(server.process.terminationStatus == 0)
    }

    @Test func snsSubscriptionIsConfirmedOnlyForAllowedHosts() async throws {
        let cli = try CLI()
        let server = try Server(
            cli, environment: ["SEQBRIDGE_SNS_EXTRA_HOSTS": "127.0.0.1", "SEQBRIDGE_SES_VERIFY": "false"])
        defer { server.stop() }
        func confirmation(_ url: String) -> String {
            #"{"Type":"SubscriptionConfirmation","MessageId":"m1","Token":"t","TopicArn":"arn:aws:sns:us-east-1:1:topic","Message":"confirm","SubscribeURL":"\#(url)","Timestamp":"2026-11-02T10:00:00Z","SignatureVersion":"1","Signature":"","SigningCertURL":"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem"}"#
        }
        // The server itself stands in for SNS: visiting its /healthz confirms the subscription.
        let (status, body) = try await server.post(
            "/webhooks/ses", confirmation(server.url + "/healthz"), contentType: "text/plain")
        #expect(status == 200)
        #expect(body.contains("subscription_confirmed"))
        let (refused, reason) = try await server.post(
            "/webhooks/ses", confirmation("https://evil.example/confirm"), contentType: "text/plain")
        #expect(refused == 400)
        #expect(reason.contains("not an Amazon SNS address"))
    }

    /// kill -9 the server while clients post: every event that got a 2xx is in
    /// the database. With one event a request each commit syncs on the writer;
    /// with 40, each commit leaves its sync to the syncing thread.
    @Test(arguments: [1, 40])
    func acknowledgedEventsSurviveAKill(eventsPerRequest: Int) async throws {
        let cli = try CLI()
        let ids = try sentMessages(cli)
        let server = try Server(cli)
        let message = ids["ana@example.com"]!
        let acknowledged = AckLog()
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for index in 0..<400 {
                        let events = (0..<eventsPerRequest).map { "w\(worker)-\(index)-\($0)" }
                        let body =
                            "["
                            + events.map {
                                #"{"type":"opened","message_id":"<\#(message)>","timestamp":"2026-11-02T10:10:00Z","event_id":"\#($0)"}"#
                            }.joined(separator: ",") + "]"
                        guard let (status, _) = try? await server.post("/webhooks/generic", body) else { return }
                        if status == 200 {
                            if acknowledged.add(events) == 300 { server.kill() }
                        }
                    }
                }
            }
        }
        #expect(!server.process.isRunning)
        let acked = acknowledged.ids
        #expect(acked.count >= 300 * eventsPerRequest)
        let stored = Set(
            try cli.run("show", "ana@example.com", "--json").stdout.split(separator: "\n")
                .compactMap { line -> String? in
                    guard line.contains("\"key\" : \"generic:") else { return nil }
                    return line.split(separator: "generic:").last.map { String($0.dropLast(2)) }
                })
        let missing = acked.subtracting(stored)
        #expect(missing.isEmpty, "acknowledged but lost: \(missing.sorted().prefix(5))")
    }
}

final class AckLog: @unchecked Sendable {
    private let lock = NSLock()
    private var set = Set<String>()

    private var requests = 0

    /// Notes a request's events as acknowledged; answers how many requests were.
    func add(_ ids: [String]) -> Int {
        lock.withLock {
            set.formUnion(ids)
            requests += 1
            return requests
        }
    }

    var ids: Set<String> { lock.withLock { set } }
}
