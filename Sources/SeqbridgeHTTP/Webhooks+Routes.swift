import Foundation
import Hummingbird
import Logging
import NIOCore
import SeqbridgeApp
import SeqbridgeCore
import SeqbridgeStore
import SeqbridgeWebhooks

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Settings of the webhook listener.
public struct WebhookSettings: Sendable {
    public var secrets: WebhookSecrets
    /// The largest body accepted, in bytes.
    public var maxBodyBytes: Int
    /// Hosts whose SNS subscription URLs may be visited besides `sns.<region>.amazonaws.com` (tests: loopback).
    public var extraSNSHosts: Set<String>
    /// Checks SNS signatures on `/webhooks/ses`; nil accepts unsigned SNS messages.
    public var sns: SNSVerifier?

    public init(
        secrets: WebhookSecrets = WebhookSecrets(), maxBodyBytes: Int = 5 << 20, extraSNSHosts: Set<String> = [],
        sns: SNSVerifier? = nil
    ) {
        self.secrets = secrets
        self.maxBodyBytes = maxBodyBytes
        self.extraSNSHosts = extraSNSHosts
        self.sns = sns
    }
}

/// `POST /webhooks/{provider}` in one fixed order: size limit, authenticity on
/// the raw bytes, content type, decode, durable store, answer.
struct WebhookRoutes: Sendable {
    let engine: Engine
    let settings: WebhookSettings
    let commit: GroupCommit
    let metrics: ServiceMetrics
    let clock: @Sendable () -> Timestamp

    func add(to router: Router<BasicRequestContext>) {
        router.post("/webhooks/:provider") { request, context -> Response in
            let provider = context.parameters.get("provider") ?? ""
            return await handle(request, provider: provider, logger: context.logger)
        }
        // Mandrill checks a new webhook URL with HEAD before it will use it.
        router.on("/webhooks/:provider", method: .head) { _, _ -> Response in Response(status: .ok) }
    }

    func handle(_ request: Request, provider: String, logger: Logger) async -> Response {
        var logger = logger
        logger[metadataKey: "provider"] = "\(provider)"
        for field in request.headers {
            switch field.name.canonicalName {
            case "svix-id", "x-amz-sns-message-id", "x-messagesystems-batch-id":
                logger[metadataKey: "delivery_id"] = "\(field.value)"
            default: continue
            }
        }
        guard Providers.names.contains(provider) else {
            return refuse(.unknownProvider(provider), provider: "unknown", logger: logger)
        }
        return await process(request, label: provider, logger: logger) { webhook, now throws(WebhookError) in
            try settings.secrets.verify(provider: provider, webhook, now: now)
            if provider == "ses", let sns = settings.sns { try await sns.verify(webhook.body) }
            try checkContentType(webhook, provider: provider)
            return try Providers.decode(provider: provider, webhook)
        }
    }

    /// The shared pipeline after routing: read the body within the limit, let
    /// `decode` check authenticity and decode, store durably, answer.
    func process(
        _ request: Request, label: String, logger: Logger,
        decode: (WebhookRequest, Timestamp) async throws(WebhookError) -> DecodedWebhook
    ) async -> Response {
        let provider = label
        let body: ByteBuffer
        do {
            var request = request
            body = try await request.collectBody(upTo: settings.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            return refuse(.tooLarge(limit: settings.maxBodyBytes), provider: provider, logger: logger)
        } catch {
            return refuse(.unparseable("the body could not be read"), provider: provider, logger: logger)
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let now = clock()
        let webhook = WebhookRequest(body: Array(buffer: body), headers: headers, receivedAt: now)
        do {
            let decoded = try await decode(webhook, now)
            if let control = decoded.control { return await handleControl(control, provider: provider, logger: logger) }
            var summary = IntakeSummary()
            do {
                summary.count(try await commit.submit(decoded.events, now: now))
            } catch {
                logger.error("storing events failed", metadata: ["error": "\(error)"])
                metrics.request(provider: provider, outcome: "unavailable")
                return json(.serviceUnavailable, #"{"error":"the events could not be stored; try again"}"#)
            }
            metrics.request(provider: provider, outcome: "ok")
            metrics.events(decoded.events, summary: summary)
            logger.debug(
                "webhook stored", metadata: ["received": "\(summary.received)", "applied": "\(summary.applied)"])
            return json(
                .ok,
                #"{"applied":\#(summary.applied),"duplicates":\#(summary.duplicates),"malformed":\#(summary.malformed),"received":\#(summary.received),"unmatched":\#(summary.unmatched)}"#
            )
        } catch {
            return refuse(error, provider: provider, logger: logger)
        }
    }

    func checkContentType(_ request: WebhookRequest, provider: String) throws(WebhookError) {
        let type = request.contentType
        let accepted =
            switch (provider, type) {
            case (_, ""), ("mandrill", "application/x-www-form-urlencoded"), ("ses", "text/plain"): true
            case ("mandrill", _): false
            default: type == "application/json"
            }
        guard accepted else { throw .unsupportedContentType(type) }
    }

    func handleControl(_ control: ControlMessage, provider: String, logger: Logger) async -> Response {
        metrics.request(provider: provider, outcome: "control")
        switch control {
        case .unsubscribeConfirmation(let topic):
            logger.notice("SNS unsubscribe confirmation", metadata: ["topic": "\(topic)"])
            return json(.ok, #"{"control":"unsubscribe_confirmation"}"#)
        case .subscriptionConfirmation(let url, let topic):
            guard let parsed = URL(string: url), let host = parsed.host,
                SNSVerifier.isSNSHost(host) && parsed.scheme == "https" || settings.extraSNSHosts.contains(host)
            else {
                logger.warning("SNS subscription URL refused", metadata: ["url": "\(url)"])
                return json(.badRequest, #"{"error":"the SubscribeURL is not an Amazon SNS address"}"#)
            }
            do {
                let (_, response) = try await URLSession.shared.data(from: parsed)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                guard (200..<300).contains(status) else { throw URLError(.badServerResponse) }
                logger.notice("SNS subscription confirmed", metadata: ["topic": "\(topic)"])
                return json(.ok, #"{"control":"subscription_confirmed"}"#)
            } catch {
                logger.error("SNS subscription confirmation failed", metadata: ["error": "\(error)"])
                return json(
                    .serviceUnavailable, #"{"error":"the subscription could not be confirmed; SNS will retry"}"#)
            }
        }
    }

    func refuse(_ error: WebhookError, provider: String, logger: Logger) -> Response {
        let outcome =
            switch error {
            case .unauthenticated: "unauthenticated"
            case .tooLarge: "too_large"
            case .unsupportedContentType: "unsupported_media_type"
            case .unknownProvider: "unknown_provider"
            case .unparseable: "bad_request"
            case .temporarilyUnavailable: "unavailable"
            }
        metrics.request(provider: provider, outcome: outcome)
        logger.warning("webhook refused", metadata: ["reason": "\(error)"])
        return json(HTTPResponse.Status(code: error.status), #"{"error":\#(Report.jsonString(error.description))}"#)
    }
}

func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
    Response(
        status: status, headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: body + "\n")))
}
