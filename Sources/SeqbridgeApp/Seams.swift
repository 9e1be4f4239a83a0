import Foundation
import SeqbridgeCore

/// Where "now" comes from. Commands take it from `--now` or the system clock.
public protocol NowSource: Sendable {
    func now() -> Timestamp
}

public struct SystemNow: NowSource {
    public init() {}

    public func now() -> Timestamp {
        Timestamp(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }
}

public struct FixedNow: NowSource {
    public let timestamp: Timestamp

    public init(_ timestamp: Timestamp) {
        self.timestamp = timestamp
    }

    public func now() -> Timestamp { timestamp }
}

/// Makes enrollment tokens and Message-IDs.
public protocol IdentifierSource: Sendable {
    /// A new enrollment token, unique across the database.
    func enrollmentToken() -> String
    /// A new Message-ID (without angle brackets) on `domain`.
    func messageID(domain: String) -> String
}

/// Random identifiers from the system's secure generator.
public struct RandomIdentifiers: IdentifierSource {
    public init() {}

    public func enrollmentToken() -> String { "sbt_" + Self.randomText(22) }

    public func messageID(domain: String) -> String { "sb." + Self.randomText(24) + "@" + domain }

    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")

    static func randomText(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }
}

/// Counting identifiers for tests and benchmarks: the same run gives the same ids.
public final class SequentialIdentifiers: IdentifierSource, @unchecked Sendable {
    private let lock = NSLock()
    private var counter = 0
    private let prefix: String

    public init(prefix: String = "t") {
        self.prefix = prefix
    }

    private func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        counter += 1
        return counter
    }

    public func enrollmentToken() -> String { "sbt_\(prefix)\(next())" }

    public func messageID(domain: String) -> String { "sb.\(prefix)\(next())@\(domain)" }
}
