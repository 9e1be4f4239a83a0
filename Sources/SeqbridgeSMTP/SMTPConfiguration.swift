import Foundation

/// An SMTP mailbox's connection settings, from its transport URL:
/// `smtp://USER@HOST:PORT?tls=starttls|tls|none&auth=plain|login|xoauth2&ca=FILE&helo=NAME`.
public struct SMTPConfiguration: Sendable, Equatable {
    public enum Security: String, Sendable { case starttls, tls, none }
    public enum Mechanism: String, Sendable { case plain, login, xoauth2 }

    public var host: String
    public var port: Int
    public var username: String?
    public var security: Security
    /// Nil: the best the server offers (PLAIN, then LOGIN).
    public var mechanism: Mechanism?
    /// A PEM file of certificates to trust instead of the system's (a private CA).
    public var trustFile: String?
    public var heloName: String?
    /// Where the password (or XOAUTH2 token) is read when connecting: an
    /// environment variable or a file. The secret itself is never stored.
    public var passwordEnv: String?
    public var passwordFile: String?
    public var connectTimeout: Int64 = 30
    public var commandTimeout: Int64 = 60
    public var dataTimeout: Int64 = 300

    /// Whether the host is this machine: the only place `tls=none` is allowed.
    public var isLoopback: Bool { ["127.0.0.1", "::1", "localhost", "[::1]"].contains(host.lowercased()) }

    public static func isSMTP(_ url: String) -> Bool { url.lowercased().hasPrefix("smtp://") }

    public init(url: String) throws(SMTPConfigurationError) {
        guard Self.isSMTP(url), let components = URLComponents(string: url), let host = components.host,
            !host.isEmpty
        else {
            throw .invalid(url, "write it as smtp://USER@HOST:PORT?tls=starttls")
        }
        self.host = host
        username = components.user?.removingPercentEncoding ?? components.user
        var security = Security.starttls
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "tls":
                guard let chosen = Security(rawValue: value.lowercased()) else {
                    throw .invalid(url, "tls must be starttls, tls or none, not '\(value)'")
                }
                security = chosen
            case "auth":
                guard let chosen = Mechanism(rawValue: value.lowercased()) else {
                    throw .invalid(url, "auth must be plain, login or xoauth2, not '\(value)'")
                }
                mechanism = chosen
            case "ca": trustFile = value
            case "helo": heloName = value
            case "password_env": passwordEnv = value
            case "password_file": passwordFile = value
            case "timeout":
                guard let seconds = Int64(value), seconds > 0 else {
                    throw .invalid(url, "timeout must be a number of seconds")
                }
                commandTimeout = seconds
                connectTimeout = min(connectTimeout, seconds)
            default:
                throw .invalid(
                    url,
                    "unknown setting '\(item.name)' (known: tls, auth, ca, helo, timeout, password_env, password_file)")
            }
        }
        self.security = security
        port = components.port ?? (security == .tls ? 465 : security == .starttls ? 587 : 25)
        if security == .none, !isLoopback {
            throw .invalid(url, "tls=none is only allowed for a server on this machine (127.0.0.1 or localhost)")
        }
        if components.password != nil {
            throw .invalid(url, "a password never goes in the URL; use --password-env or --password-file")
        }
        if mechanism == .xoauth2, username == nil {
            throw .invalid(url, "auth=xoauth2 needs the account name as the URL's user")
        }
    }
}

extension SMTPConfiguration {
    /// Reads the configured password: trailing line ends of a file are dropped.
    public func readSecret(environment: [String: String] = ProcessInfo.processInfo.environment) throws(SecretError)
        -> String?
    {
        if let name = passwordEnv {
            guard let value = environment[name], !value.isEmpty else { throw .missingVariable(name) }
            return value
        }
        if let path = passwordFile {
            guard let data = FileManager.default.contents(atPath: path) else { throw .unreadableFile(path) }
            var text = String(decoding: data, as: UTF8.self)
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            return text
        }
        return nil
    }

    public enum SecretError: Error, Sendable, Equatable, CustomStringConvertible {
        case missingVariable(String)
        case unreadableFile(String)

        public var description: String {
            switch self {
            case .missingVariable(let name): "the environment variable \(name) is not set"
            case .unreadableFile(let path): "the password file \(path) cannot be read"
            }
        }
    }
}

public enum SMTPConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalid(String, String)

    public var description: String {
        switch self {
        case .invalid(let url, let why): "The SMTP transport '\(url)' cannot be used: \(why)."
        }
    }
}
