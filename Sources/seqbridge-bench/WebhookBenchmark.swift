import Foundation
import SeqbridgeCore
import SeqbridgeSQLite
import SeqbridgeStore

/// The durable webhook route under load from wrk on loopback, beside a
/// trivial route of the same server that answers 200 without touching storage.
enum WebhookBenchmark {
    struct Result {
        var requests: Int
        var requestsPerSecond: Double
        var p50: String
        var p99: String
    }

    static func run(binary: String, seconds: Int, connections: [Int] = [16, 64]) async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk") else {
            print("webhooks: skipped, wrk is not installed (apt-get install wrk)\n")
            return
        }
        print("webhooks: wrk on loopback, \(seconds) s each, 1 thread")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "seqbridge-hooks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("hooks.sqlite").path
        let messageIDs = try await seed(database: database)

        let server = Process()
        server.executableURL = URL(fileURLWithPath: binary)
        let floorDatabase = folder.appendingPathComponent("floor.sqlite").path
        server.arguments = ["serve", "--port", "0", "--tick-interval", "0", "--bench-floor", floorDatabase]
        var environment = ProcessInfo.processInfo.environment
        environment["SEQBRIDGE_DATABASE"] = database
        server.environment = environment
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        var line = ""
        while !line.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += String(decoding: chunk, as: UTF8.self)
        }
        guard let base = line.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) else {
            throw BenchError("the server did not start")
        }
        // The server created it at start; the count before and after each floor phase is read through it.
        let floorLog = try AppendOnlyLog(path: floorDatabase)
        for (name, events) in [("single event", 1), ("100-event batch", 100)] {
            for connections in connections {
                // A new prefix for this phase's event ids: repeats of an earlier durable
                // run's ids would be duplicates, answered without writing anything.
                let script = folder.appendingPathComponent("post-\(events).lua").path
                try lua(events: events, messageIDs: messageIDs).write(toFile: script, atomically: true, encoding: .utf8)
                let trivial = try wrk(base + "/bench/noop", script: script, seconds: seconds, connections: connections)
                let storedBefore = try storedEvents(database)
                let durable = try wrk(
                    base + "/webhooks/generic", script: script, seconds: seconds, connections: connections)
                // Every answered event is a new row; fewer would mean the run measured duplicates.
                let stored = try storedEvents(database) - storedBefore
                guard stored >= durable.requests * events else {
                    throw BenchError("\(durable.requests * events) events were answered but only \(stored) stored")
                }
                let ratio = durable.requestsPerSecond / trivial.requestsPerSecond
                var verdict = ""
                var floorLine = ""
                if events == 1 {
                    verdict = String(format: "target ≥ 0.50× the trivial route: %@", ratio >= 0.5 ? "met" : "NOT met")
                    // The same route with each event only appended and synced: what any durable answer costs here.
                    let appendedBefore = try floorLog.count()
                    let floor = try wrk(
                        base + "/bench/floor", script: script, seconds: seconds, connections: connections)
                    guard try floorLog.count() - appendedBefore >= floor.requests else {
                        throw BenchError("the floor route answered more events than it appended")
                    }
                    floorLine = String(
                        format:
                            "\n    floor (same route, events only appended and synced): %.0f req/s, p50 %@, p99 %@, %.2f× trivial; durable is %.2f× the floor",
                        floor.requestsPerSecond, floor.p50, floor.p99,
                        floor.requestsPerSecond / trivial.requestsPerSecond,
                        durable.requestsPerSecond / floor.requestsPerSecond)
                }
                if events == 100 {
                    verdict = String(
                        format: "target ≥ 80,000 events/s: %@",
                        durable.requestsPerSecond * 100 >= 80_000 ? "met" : "NOT met")
                }
                print(
                    String(
                        format:
                            "  %@, %d connections: durable %.0f req/s, %.0f events/s, p50 %@, p99 %@ | trivial %.0f req/s, p50 %@, p99 %@ | %.2f× (%@)",
                        name, connections, durable.requestsPerSecond, durable.requestsPerSecond * Double(events),
                        durable.p50,
                        durable.p99,
                        trivial.requestsPerSecond, trivial.p50, trivial.p99, ratio, verdict) + floorLine)
            }
        }
        print("")
    }

    /// A wrk script posting generic events about random messages, each event
    /// with an id no other request uses, in this run or any other (wrk's
    /// random numbers repeat from run to run, so the ids start with a prefix
    /// of our own); a tenth of them are bounces, which change a status.
    static func lua(events: Int, messageIDs: [String]) -> String {
        """
        local ids = {\(messageIDs.map { "\"\($0)\"" }.joined(separator: ","))}
        local counter = 0
        local thread_id = "\(UUID().uuidString.prefix(8).lowercased())"
        wrk.method = "POST"
        wrk.headers["Content-Type"] = "application/json"
        request = function()
          counter = counter + 1
          local parts = {}
          for i = 1, \(events) do
            local kind = "opened"
            if math.random(1, 10) == 1 then kind = "bounced" end
            parts[i] = string.format('{"type":"%s","message_id":"<%s>","timestamp":"2026-11-02T10:10:00Z","event_id":"%s-%d-%d","detail":"benchmark","bounce_class":"soft"}', kind, ids[math.random(1, #ids)], thread_id, counter, i)
          end
          return wrk.format(nil, nil, nil, "[" .. table.concat(parts, ",") .. "]")
        end
        """
    }

    static func wrk(_ url: String, script: String, seconds: Int, connections: Int) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
        process.arguments = ["-t1", "-c\(connections)", "-d\(seconds)s", "--latency", "-s", script, url]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        func field(_ prefix: String) -> String? {
            text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) }
                .map {
                    $0.trimmingCharacters(in: .whitespaces).dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
                }
        }
        guard let rate = field("Requests/sec:").flatMap(Double.init),
            let requests = text.split(separator: "\n").lazy.compactMap({ line -> Int? in
                let words = line.split(separator: " ")
                return words.count > 2 && words[1] == "requests" && words[2] == "in" ? Int(words[0]) : nil
            }).first
        else { throw BenchError("wrk said: \(text)") }
        if text.contains("Non-2xx") { throw BenchError("some requests failed: \(text)") }
        return Result(requests: requests, requestsPerSecond: rate, p50: field("50%") ?? "?", p99: field("99%") ?? "?")
    }

    /// How many events the database holds, read with the sqlite3 shell beside the running server.
    static func storedEvents(_ database: String) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [database, "SELECT COUNT(*) FROM event"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let count = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BenchError("could not count the stored events: \(text)")
        }
        return count
    }

    /// How many sent messages the events are spread over.
    static let messages = 20_000

    /// `messages` enrollments with step 1 sent, so the events match messages.
    static func seed(database: String) async throws -> [String] {
        let store = try await prepareSequence(
            database: database,
            steps: [
                StepDefinition(wait: WaitDuration(seconds: 0), subject: "Hi", body: "Hello"),
                StepDefinition(wait: WaitDuration(seconds: 86_400), subject: "Again", body: "Hello again"),
            ])
        let now = Timestamp(iso8601: "2026-11-02T09:00:00Z")!
        _ = try await store.enrollBatch(
            (0..<messages).map { (InfluencerFields(email: "bench\($0)@example.com"), "bench\($0)") },
            sequence: "launch",
            force: false, now: now)
        let due = try await store.dueSteps(now: now, after: nil, limit: messages)
        let claims = due.map {
            ClaimRequest(
                enrollmentID: $0.enrollmentID, step: 1, messageID: "bench.\($0.enrollmentID)@brightside.example",
                recipient: $0.influencer.email)
        }
        _ = try await store.claim(claims, now: now)
        try await store.recordSends(
            claims.map { SendReport(messageID: $0.messageID, result: .sent(providerMessageID: nil)) }, now: now)
        return claims.map(\.messageID)
    }
}
