import Foundation
import SeqbridgeCore
import SeqbridgeMail
import SeqbridgeSMTP
import SeqbridgeStore

/// The transports a mailbox's URL can name: `file://DIRECTORY` and `smtp://...`.
public enum Transports {
    /// Checks a transport URL when a mailbox is added.
    public static func validate(_ url: String) throws {
        if SMTPConfiguration.isSMTP(url) {
            do {
                _ = try SMTPConfiguration(url: url)
            } catch {
                throw AppError.badTransport(error.description)
            }
        } else {
            do {
                try TransportURL.validate(url)
            } catch {
                throw AppError.badTransport(error.description)
            }
        }
    }

    /// The transport for a mailbox; relative `file://` paths are taken from `base`.
    public static func make(for url: String, relativeTo base: String) throws -> any MailTransport {
        if SMTPConfiguration.isSMTP(url) {
            let configuration: SMTPConfiguration
            do {
                configuration = try SMTPConfiguration(url: url)
            } catch {
                throw AppError.badTransport(error.description)
            }
            return SMTPTransport(configuration, secret: { try configuration.readSecret() })
        }
        do {
            return try TransportURL.transport(for: url, relativeTo: base)
        } catch {
            throw AppError.badTransport(error.description)
        }
    }

    /// The URL with the secret's source recorded: `password_env=VAR` or `password_file=PATH`.
    public static func addingSecretSource(_ url: String, environment: String?, file: String?) throws -> String {
        guard environment != nil || file != nil else { return url }
        guard SMTPConfiguration.isSMTP(url) else {
            throw AppError.badTransport("--password-env and --password-file are for smtp:// transports")
        }
        guard environment == nil || file == nil else {
            throw AppError.badTransport("give either --password-env or --password-file, not both")
        }
        var components = URLComponents(string: url)
        var items = components?.queryItems ?? []
        if let environment { items.append(URLQueryItem(name: "password_env", value: environment)) }
        if let file {
            let absolute = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
            items.append(URLQueryItem(name: "password_file", value: absolute))
        }
        components?.queryItems = items
        guard let result = components?.string else { throw AppError.badTransport("'\(url)' is not a URL") }
        return result
    }
}

extension Engine {
    /// `mailbox test`: connects and authenticates, sending nothing.
    public func testMailbox(named name: String) async throws -> String {
        guard let mailbox = try await store.mailboxes().first(where: { $0.definition.name == name }) else {
            throw StoreError.unknownMailbox(name)
        }
        return try await check(mailbox)
    }

    /// `mailbox reconnect`: the credentials are checked first; only then is the mailbox connected.
    public func reconnectMailbox(named name: String, now: Timestamp) async throws -> String {
        guard let mailbox = try await store.mailboxes().first(where: { $0.definition.name == name }) else {
            throw StoreError.unknownMailbox(name)
        }
        let summary = try await check(mailbox)
        try await store.reconnectMailbox(named: name, now: now)
        return summary
    }

    func check(_ mailbox: MailboxRecord) async throws -> String {
        let transport = try transports(mailbox)
        guard let smtp = transport as? SMTPTransport else {
            // A folder: it must exist (or be creatable) and be writable.
            guard let file = transport as? FileTransport else { return "nothing to check" }
            try? FileManager.default.createDirectory(atPath: file.directory, withIntermediateDirectories: true)
            guard FileManager.default.isWritableFile(atPath: file.directory) else {
                throw AppError.mailboxCheckFailed(
                    mailbox.definition.name, "the folder \(file.directory) is not writable")
            }
            return "the folder \(file.directory) is writable"
        }
        switch await smtp.check() {
        case .success(let summary): return summary
        case .failure(.rejected(let why)), .failure(.unavailable(let why)):
            throw AppError.mailboxCheckFailed(mailbox.definition.name, why)
        }
    }
}
