import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Sending through SMTP: `seqbridge tick` delivering N due steps to Postfix's
/// `smtp-sink` on loopback, beside `smtp-source` sending N messages of the same
/// size to the same sink over one connection.
enum SMTPBenchmark {
    static let target = 0.7

    static func run(binary: String, count: Int) async throws {
        print("smtp: \(count) messages to smtp-sink on loopback (one connection each way)")
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/smtp-sink"),
            FileManager.default.isExecutableFile(atPath: "/usr/sbin/smtp-source")
        else {
            print("  skipped: smtp-sink and smtp-source come with Debian's postfix package (make bench installs it)")
            print("")
            return
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "seqbridge-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try freePort()
        let sink = Process()
        sink.executableURL = URL(fileURLWithPath: "/usr/sbin/smtp-sink")
        sink.arguments = (getuid() == 0 ? ["-u", "nobody"] : []) + ["127.0.0.1:\(port)", "512"]
        sink.standardOutput = FileHandle.nullDevice
        sink.standardError = FileHandle.nullDevice
        try sink.run()
        defer {
            // smtp-sink does not stop on SIGTERM.
            kill(sink.processIdentifier, SIGKILL)
            sink.waitUntilExit()
        }
        try await waitForPort(port)

        let database = folder.appendingPathComponent("bench.sqlite").path
        try await TickBenchmark.seed(database: database, count: count, transport: "smtp://127.0.0.1:\(port)?tls=none")
        var environment = ProcessInfo.processInfo.environment
        environment["SEQBRIDGE_DATABASE"] = database
        let ours = try Measured.run(
            binary, ["tick", "--now", "2026-11-02T10:00:00Z"], environment: environment, in: folder.path,
            stdout: folder.appendingPathComponent("tick.out").path)
        let output =
            (try? String(contentsOfFile: folder.appendingPathComponent("tick.out").path, encoding: .utf8)) ?? ""
        guard ours.status == 0, output.contains("Sent \(count) step(s)") else {
            throw BenchError("seqbridge tick did not send all \(count) messages: \(output)")
        }
        let baseline = try Measured.run(
            "/usr/sbin/smtp-source",
            [
                "-s", "1", "-d", "-m", String(count), "-l", "500", "-f", "maya@brightside.example", "-t",
                "influencer@example.com", "127.0.0.1:\(port)",
            ], environment: environment, in: folder.path)
        guard baseline.status == 0 else { throw BenchError("smtp-source failed with status \(baseline.status)") }
        let rate = Double(count) / ours.seconds
        let baseRate = Double(count) / baseline.seconds
        let ratio = rate / baseRate
        print(
            String(
                format:
                    "  seqbridge tick: %.2f s, %.0f messages/s, peak %@; smtp-source: %.2f s, %.0f messages/s; seqbridge at %.2f× (target %.2f: %@)",
                ours.seconds, rate, megabytes(ours.peakBytes), baseline.seconds, baseRate, ratio, target,
                ratio >= target ? "met" : "NOT met"))
        print("")
    }

    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func waitForPort(_ port: Int) async throws {
        for _ in 0..<100 {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            close(socket)
            if connected == 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError("smtp-sink did not start listening on port \(port)")
    }
}
