import Foundation
import SeqbridgeCore
import SeqbridgeSQLite
import SeqbridgeStore

#if canImport(Glibc)
    import Glibc
#endif

/// `make bench`: measures the built `seqbridge` binary against a baseline run
/// in the same process, and prints figures and ratios.
@main
struct Bench {
    static func main() async throws {
        var arguments = CommandLine.arguments.dropFirst()
        var binary = ".build/release/seqbridge"
        var sizes = [10_000, 100_000]
        var rows = 1_000_000
        var only: String?
        var seconds = 10
        var smtpMessages = 10_000
        while let argument = arguments.popFirst() {
            switch argument {
            case "--seqbridge": binary = arguments.popFirst() ?? binary
            case "--sizes": sizes = (arguments.popFirst() ?? "").split(separator: ",").compactMap { Int($0) }
            case "--rows": rows = Int(arguments.popFirst() ?? "") ?? rows
            case "--only": only = arguments.popFirst()
            case "--seconds": seconds = Int(arguments.popFirst() ?? "") ?? seconds
            case "--smtp-messages": smtpMessages = Int(arguments.popFirst() ?? "") ?? smtpMessages
            case "--classify-worker":
                // The child process of the classify benchmark: --classify-worker ROOT SECONDS.
                let root = arguments.popFirst() ?? "Tests/Fixtures/email"
                try ClassifyBenchmark.worker(root: root, seconds: Double(arguments.popFirst() ?? "") ?? 5)
                return
            case "--prepare":
                // Seeds a database for profiling by hand: --prepare FILE COUNT.
                let file = arguments.popFirst() ?? "bench.sqlite"
                try await TickBenchmark.seed(database: file, count: Int(arguments.popFirst() ?? "") ?? 10_000)
                return
            default:
                FileHandle.standardError.write(Data("unknown argument \(argument)\n".utf8))
                exit(2)
            }
        }
        binary = URL(fileURLWithPath: binary).path
        print("seqbridge benchmarks (release build: \(binary))")
        print("")
        if only == nil || only == "tick" { try await TickBenchmark.run(binary: binary, sizes: sizes) }
        if only == nil || only == "webhooks" { try await WebhookBenchmark.run(binary: binary, seconds: seconds) }
        if only == nil || only == "csv" { try await CSVBenchmark.run(binary: binary, rows: rows) }
        if only == nil || only == "classify" { try ClassifyBenchmark.run(seconds: seconds) }
        if only == nil || only == "smtp" { try await SMTPBenchmark.run(binary: binary, count: smtpMessages) }
    }
}

/// Runs a command and reports its wall time and peak resident memory.
struct Measured {
    var seconds: Double
    var peakBytes: Int
    var status: Int32

    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String], in folder: String,
        stdout: String? = nil
    ) throws -> Measured {
        var pid: pid_t = 0
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, stdout ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let start = DispatchTime.now()
        guard posix_spawn(&pid, executable, &actions, nil, argv, envp) == 0 else {
            throw BenchError("could not start \(executable)")
        }
        // The child's own high-water mark, read from /proc while it runs. `ru_maxrss`
        // will not do: Linux carries the mark of the image before `exec` over, and
        // a spawned child's image before `exec` is this (large) benchmark process.
        var status: Int32 = 0
        var peak = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            peak = max(peak, Self.highWaterMark(pid))
            usleep(2_000)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return Measured(seconds: seconds, peakBytes: peak, status: status)
    }

    /// `VmHWM` of a running process, in bytes (0 once it has exited).
    static func highWaterMark(_ pid: pid_t) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kibibytes = Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ")[0])
        else { return 0 }
        return kibibytes * 1024
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }

enum TickBenchmark {
    static let target = 5_000.0

    static func run(binary: String, sizes: [Int]) async throws {
        print("tick: every due step sent to the file transport (claimed, written as .eml, confirmed)")
        var peaks: [Int: Int] = [:]
        for size in sizes {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "seqbridge-bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let database = folder.appendingPathComponent("bench.sqlite").path
            try await seed(database: database, count: size)

            let baseline = try writeFilesBaseline(count: size, in: folder.appendingPathComponent("baseline").path)
            var environment = ProcessInfo.processInfo.environment
            environment["SEQBRIDGE_DATABASE"] = database
            let measured = try Measured.run(
                binary, ["tick", "--now", "2026-11-02T10:00:00Z"], environment: environment, in: folder.path)
            guard measured.status == 0 else { throw BenchError("seqbridge tick failed with status \(measured.status)") }
            let sent = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("outbox").path)
                .count
            guard sent == size else { throw BenchError("expected \(size) messages, found \(sent)") }
            let rate = Double(size) / measured.seconds
            peaks[size] = measured.peakBytes
            print(
                String(
                    format:
                        "  %7d due: %6.2f s, %7.0f steps/s (target %.0f: %@), peak %@; baseline (plain .eml writes) %7.0f files/s, seqbridge at %.2f× baseline",
                    size, measured.seconds, rate, target, rate >= target ? "met" : "NOT met",
                    megabytes(measured.peakBytes), Double(size) / baseline, rate / (Double(size) / baseline)))
        }
        if let small = sizes.first, let large = sizes.last, small != large, let a = peaks[small], let b = peaks[large] {
            print(
                String(
                    format: "  peak memory at %d vs %d enrollments: %.2f× (flat means it does not grow with the table)",
                    large, small, Double(b) / Double(a)))
        }
        print("")
    }

    /// A mailbox, a one-step sequence, and `count` enrollments all due at 10:00.
    static func seed(database: String, count: Int, transport: String = "file://outbox") async throws {
        let store = try SQLiteStore(path: database)
        let now = Timestamp(iso8601: "2026-11-02T09:00:00Z")!
        try await store.addMailbox(
            MailboxDefinition(
                name: "outreach", fromName: "Maya at Brightside",
                fromAddress: try EmailAddress("maya@brightside.example"),
                transport: transport), now: now)
        _ = try await store.applySequence(
            SequenceDefinition(
                name: "launch", mailbox: "outreach",
                steps: [
                    StepDefinition(
                        wait: WaitDuration(seconds: 3600), subject: "Collab idea for {{first_name}}",
                        body:
                            "Hi {{first_name}},\n\nWe loved your posts as {{handle}} and would like to work with you.\n\nMaya"
                    ),
                    StepDefinition(
                        wait: WaitDuration(seconds: 86_400), subject: "Re: Collab idea", body: "Following up."),
                ]), now: now)
        var batch: [(fields: InfluencerFields, token: String)] = []
        for index in 0..<count {
            batch.append(
                (
                    InfluencerFields(
                        email: "influencer\(index)@example.com", name: "Influencer \(index)", handle: "@inf\(index)"),
                    "tok\(index)"
                ))
            if batch.count == 5_000 || index == count - 1 {
                _ = try await store.enrollBatch(batch, sequence: "launch", force: false, now: now)
                batch.removeAll(keepingCapacity: true)
            }
        }
    }

    /// The floor: writing the same number of similar .eml files the same way
    /// (temporary file, then rename), with no database at all.
    static func writeFilesBaseline(count: Int, in folder: String) throws -> Double {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let body = [UInt8](String(repeating: "x", count: 520).utf8)
        let start = DispatchTime.now()
        for index in 0..<count {
            let final = folder + "/m\(index).eml"
            let temporary = folder + "/.m\(index).tmp"
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0, write(descriptor, body, body.count) == body.count, close(descriptor) == 0,
                rename(temporary, final) == 0
            else { throw BenchError("baseline could not write \(final)") }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
