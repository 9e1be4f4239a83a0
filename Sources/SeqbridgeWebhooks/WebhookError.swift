/// Why a webhook request is refused, each with the HTTP answer it gets.
public enum WebhookError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownProvider(String)
    case unparseable(String)
    case unsupportedContentType(String)
    case unauthenticated(String)
    case tooLarge(limit: Int)
    /// Something we depend on failed (e.g. fetching a signing certificate): the sender should retry.
    case temporarilyUnavailable(String)

    public var status: Int {
        switch self {
        case .unknownProvider: 404
        case .unparseable: 400
        case .unsupportedContentType: 415
        case .unauthenticated: 401
        case .tooLarge: 413
        case .temporarilyUnavailable: 503
        }
    }

    public var description: String {
        switch self {
        case .unknownProvider(let name):
            "There is no provider named '\(name)'; use one of \(Providers.names.joined(separator: ", "))."
        case .unparseable(let why): "The body cannot be read: \(why)."
        case .unsupportedContentType(let type): "The content type '\(type)' is not accepted here."
        case .unauthenticated(let why): "The request is not authenticated: \(why)."
        case .tooLarge(let limit): "The body is larger than the limit of \(limit) bytes."
        case .temporarilyUnavailable(let why): "The request cannot be checked right now: \(why); try again."
        }
    }
}
