import Foundation
import SeqbridgeCore
import SeqbridgeInbound

/// Classifying raw email: the typical bounce, complaint, auto-reply and reply
/// messages of `Tests/Fixtures/email`, again and again for a fixed time, in a
/// child process so its peak memory is its own. The baseline, in the same run,
/// is Python's standard `email` parser reading the same messages (parsing only).
enum ClassifyBenchmark {
    static let target = 20_000.0
    static let folders = ["dsn", "complaint", "autoreply", "reply"]

    static func messages(in root: String) throws -> [[UInt8]] {
        var result: [[UInt8]] = []
        for folder in folders {
            let path = root + "/" + folder
            for name in try FileManager.default.contentsOfDirectory(atPath: path).sorted() where name.hasSuffix(".eml")
            {
                result.append(Array(try Data(contentsOf: URL(fileURLWithPath: path + "/" + name))))
            }
        }
        return result
    }

    /// The child: classifies for `seconds` and prints the number of messages done.
    static func worker(root: String, seconds: Double) throws {
        let messages = try messages(in: root)
        let now = Timestamp(millisecondsSinceEpoch: 1_793_613_600_000)
        let start = DispatchTime.now().uptimeNanoseconds
        let deadline = start + UInt64(seconds * 1e9)
        var done = 0
        var events = 0
        while DispatchTime.now().uptimeNanoseconds < deadline {
            for message in messages {
                events += MailClassifier.classify(message, source: "bench", receivedAt: now).events.count
            }
            done += messages.count
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("\(done) \(elapsed) \(events)")
    }

    static func run(seconds: Int) throws {
        let root = "Tests/Fixtures/email"
        let count = try messages(in: root).count
        print("classify: \(count) typical messages (bounces from 20 MTA families, complaints, auto-replies, replies)")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "seqbridge-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("classify.out").path
        let measured = try Measured.run(
            CommandLine.arguments[0], ["--classify-worker", root, String(seconds)],
            environment: ProcessInfo.processInfo.environment, in: folder.path, stdout: output)
        let fields = (try String(contentsOfFile: output, encoding: .utf8)).split(separator: " ")
        guard measured.status == 0, fields.count == 3, let done = Double(fields[0]), let elapsed = Double(fields[1])
        else { throw BenchError("the classify worker failed") }
        let rate = done / elapsed

        let script = """
            import email, email.policy, os, sys, time
            root = sys.argv[1]
            msgs = []
            for folder in [\(folders.map { "'\($0)'" }.joined(separator: ", "))]:
                d = os.path.join(root, folder)
                msgs += [open(os.path.join(d, n), 'rb').read() for n in sorted(os.listdir(d)) if n.endswith('.eml')]
            start = time.monotonic(); done = 0
            while time.monotonic() - start < float(sys.argv[2]):
                for m in msgs:
                    message = email.message_from_bytes(m, policy=email.policy.compat32)
                    for part in message.walk(): part.get_payload(decode=True)
                done += len(msgs)
            print(done / (time.monotonic() - start))
            """
        let scriptFile = folder.appendingPathComponent("baseline.py").path
        try script.write(toFile: scriptFile, atomically: true, encoding: .utf8)
        let baselineOut = folder.appendingPathComponent("baseline.out").path
        let python = try Measured.run(
            "/usr/bin/python3", [scriptFile, root, String(seconds)], environment: ProcessInfo.processInfo.environment,
            in: folder.path, stdout: baselineOut)
        let baseline =
            Double(
                (try String(contentsOfFile: baselineOut, encoding: .utf8)).trimmingCharacters(
                    in: .whitespacesAndNewlines)) ?? 0
        guard python.status == 0, baseline > 0 else { throw BenchError("the Python baseline failed") }
        print(
            String(
                format:
                    "  %.0f messages/s (%.1f µs each; target %.0f: %@), peak %@; baseline (Python email parser, parsing only) %.0f messages/s, seqbridge at %.1f× baseline",
                rate, 1e6 / rate, target, rate >= target ? "met" : "NOT met", megabytes(measured.peakBytes), baseline,
                rate / baseline))
        print("")
    }
}
