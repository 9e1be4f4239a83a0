import Foundation
import SeqbridgeCore

/// What a transport says about one message.
public enum TransportOutcome: Sendable, Hashable {
    case accepted(providerMessageID: String?)
    /// Not sent now, may work later (a 4xx reply, a dropped connection, a full disk).
    case temporaryFailure(String)
    /// The receiving side refused this recipient for good.
    case recipientRejected(String, BounceClass)
    /// The mailbox's server cannot be reached or used right now (connection, TLS,
    /// a closing server): not sent; the mailbox is disconnected if it lasts.
    case mailboxUnavailable(String)
    /// The mailbox's credentials were refused: not sent; the mailbox is disconnected.
    case mailboxRejected(String)
}

/// Hands composed messages to a mail system.
public protocol MailTransport: Sendable {
    func send(_ message: OutgoingMessage) async -> TransportOutcome
    /// Ends any open connection once a tick is done with the transport.
    func close() async
}

extension MailTransport {
    public func close() async {}
}

public enum TransportURLError: Error, Equatable, Sendable, CustomStringConvertible {
    case unsupported(String)
    case missingPath(String)

    public var description: String {
        switch self {
        case .unsupported(let url):
            "The transport '\(url)' is not supported; use file://DIRECTORY or smtp://USER@HOST:PORT?tls=starttls."
        case .missingPath(let url): "The transport '\(url)' names no directory; write it as file://DIRECTORY."
        }
    }
}

/// Builds the transport a mailbox's URL names.
public enum TransportURL {
    /// Checks a transport URL when a mailbox is added.
    public static func validate(_ url: String) throws(TransportURLError) {
        _ = try directory(of: url)
    }

    public static func transport(for url: String, relativeTo base: String) throws(TransportURLError)
        -> any MailTransport
    {
        let path = try directory(of: url)
        return FileTransport(directory: path.hasPrefix("/") ? path : base + "/" + path)
    }

    static func directory(of url: String) throws(TransportURLError) -> String {
        let path: Substring
        if url.hasPrefix("file://") {
            path = url.dropFirst("file://".count)
        } else if url.hasPrefix("file:") {
            path = url.dropFirst("file:".count)
        } else {
            throw .unsupported(url)
        }
        guard !path.isEmpty else { throw .missingPath(url) }
        return String(path)
    }
}

/// Writes each message as a complete `.eml` file in a directory: the embedded
/// default transport, for trying seqbridge out and for tests. A file appears
/// whole or not at all (written aside, then renamed).
public struct FileTransport: MailTransport {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public func send(_ message: OutgoingMessage) async -> TransportOutcome {
        let name = String(message.messageID.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
        let final = directory + "/" + name + ".eml"
        let temporary = directory + "/." + name + ".tmp"
        var descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if descriptor < 0, errno == ENOENT {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                return .temporaryFailure("could not create \(directory): \(error.localizedDescription)")
            }
            descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        guard descriptor >= 0 else { return .temporaryFailure("could not write \(temporary): \(errorText())") }
        let written = message.data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let result = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if result < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += result
            }
            return true
        }
        let failure = written ? nil : errorText()
        Glibc.close(descriptor)
        if let failure {
            unlink(temporary)
            return .temporaryFailure("could not write \(temporary): \(failure)")
        }
        guard rename(temporary, final) == 0 else {
            let failure = errorText()
            unlink(temporary)
            return .temporaryFailure("could not rename \(temporary) to \(final): \(failure)")
        }
        return .accepted(providerMessageID: nil)
    }

    private func errorText() -> String { String(cString: strerror(errno)) }
}
