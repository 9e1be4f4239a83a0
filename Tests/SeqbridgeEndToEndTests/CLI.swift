import Foundation
import Testing

/// Runs the built `seqbridge` binary in a scratch folder of its own.
struct CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["SEQBRIDGE_BIN"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/seqbridge").path
    }()

    static let samples: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("samples")

    let folder: URL
    /// Variables added to every run's environment (e.g. an SMTP password).
    var environment: [String: String] = [:]

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("seqbridge-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    var database: String { folder.appendingPathComponent("seqbridge.sqlite").path }

    func process(_ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["SEQBRIDGE_DATABASE"] = database
        for (key, value) in self.environment { environment[key] = value }
        process.environment = environment
        return process
    }

    @discardableResult
    func run(_ arguments: String..., expect expected: Int32? = 0, sourceLocation: SourceLocation = #_sourceLocation)
        throws -> Result
    {
        let result = try run(arguments)
        if let expected {
            #expect(
                result.status == expected,
                "seqbridge \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)",
                sourceLocation: sourceLocation)
        }
        return result
    }

    /// The sample mailbox and both sample sequences.
    func setUpSamples() throws {
        try run(
            "mailbox", "add", "outreach", "--from", "Maya at Brightside <maya@brightside.example>", "--transport",
            "file://outbox")
        try run("sequence", "apply", Self.samples.appendingPathComponent("summer-launch.yaml").path)
        try run("sequence", "apply", Self.samples.appendingPathComponent("quick-hello.yaml").path)
    }

    func outbox() throws -> [String] {
        let path = folder.appendingPathComponent("outbox").path
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".eml") }
    }

    /// The export as one dictionary per row, keyed by column.
    func exportRows(_ extra: String...) throws -> [[String: Any]] {
        let result = try run(["export", "--format", "jsonl"] + extra)
        return try result.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func run(_ arguments: [String]) throws -> Result {
        let process = process(arguments)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    func row(_ email: String, sequence: String) throws -> [String: Any]? {
        try exportRows("--sequence", sequence).last { $0["email"] as? String == email }
    }
}
