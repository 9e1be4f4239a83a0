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

    /// Time-ordered like the Message-IDs, so bulk imports append to the token index.
    public func enrollmentToken() -> String {
        let millis = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        return "sbt_" + Self.base32(millis, digits: 9) + Self.randomText(14)
    }

    /// Time-ordered (like a ULID): the wall-clock milliseconds first, then
    /// randomness. New ids land at the end of the database's unique indexes
    /// instead of scattering writes across them.
    public func messageID(domain: String) -> String {
        let millis = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        return "sb." + Self.base32(millis, digits: 9) + Self.randomText(16) + "@" + domain
    }

    static func base32(_ value: UInt64, digits: Int) -> String {
        var value = value
        var characters = [Character](repeating: "a", count: digits)
        for index in stride(from: digits - 1, through: 0, by: -1) {
            characters[index] = alphabet[Int(value & 31)]
            value >>= 5
        }
        return String(characters)
    }

    /// Base32: exactly five random bits a character, twelve characters from each 64-bit draw.
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")

    static func randomText(_ count: Int) -> String {
        var generator = BufferedSecureRandom.shared
        var characters: [Character] = []
        characters.reserveCapacity(count)
        var bits: UInt64 = 0
        var available = 0
        while characters.count < count {
            if available < 5 {
                bits = generator.next()
                available = 64
            }
            characters.append(alphabet[Int(bits & 31)])
            bits >>= 5
            available -= 5
        }
        return String(characters)
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

/// The kernel's secure random bytes (/dev/urandom), fetched 4 KiB at a time: one read
/// serves hundreds of identifiers instead of one call per eight bytes.
struct BufferedSecureRandom: RandomNumberGenerator {
    static var shared: BufferedSecureRandom { BufferedSecureRandom() }
    private static let pool = Pool()

    mutating func next() -> UInt64 { Self.pool.next() }

    final class Pool: @unchecked Sendable {
        private let lock = NSLock()
        private var buffer = [UInt64](repeating: 0, count: 512)
        private var index = 512

        func next() -> UInt64 {
            lock.lock()
            defer { lock.unlock() }
            if index == buffer.count {
                var system = SystemRandomNumberGenerator()
                let filled = buffer.withUnsafeMutableBytes { bytes in
                    let descriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
                    guard descriptor >= 0 else { return false }
                    defer { close(descriptor) }
                    return read(descriptor, bytes.baseAddress, bytes.count) == bytes.count
                }
                if !filled { for position in buffer.indices { buffer[position] = system.next() } }
                index = 0
            }
            defer { index += 1 }
            return buffer[index]
        }
    }
}
