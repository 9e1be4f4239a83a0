import Hummingbird
import Logging
import SeqbridgeApp
import SeqbridgeCore
import SeqbridgeWebhooks

/// `POST /inbound/{source}` (replies, bounces and complaints sent back as
/// email) and `POST /reports/dsn` (delivery status reports, MIME or XML): the
/// same pipeline and rules as the webhooks, with the email classifier behind it.
extension WebhookRoutes {
    func addInbound(to router: Router<BasicRequestContext>) {
        router.post("/inbound/:source") { request, context -> Response in
            let source = context.parameters.get("source") ?? ""
            var logger = context.logger
            logger[metadataKey: "inbound"] = "\(source)"
            guard InboundSources.names.contains(source) else {
                return json(
                    .notFound,
                    #"{"error":\#(Report.jsonString("There is no inbound source named '\(source)'; use one of \(InboundSources.names.joined(separator: ", ")).")))}"#
                )
            }
            return await process(request, label: "inbound-\(source)", logger: logger) {
                webhook, now throws(WebhookError) in
                // The SNS signature is over the envelope, so it is checked before anything else.
                try settings.secrets.verifyInbound(source: source, webhook)
                if source == "ses", let sns = settings.sns { try await sns.verify(webhook.body) }
                let decoded = try InboundSources.decode(source: source, webhook)
                try settings.secrets.verifyInboundFields(source: source, fields: decoded.fields, now: now)
                return decoded.webhook
            }
        }
        router.post("/reports/dsn") { request, context -> Response in
            await process(request, label: "dsn", logger: context.logger) { webhook, now throws(WebhookError) in
                try settings.secrets.verifyInbound(source: "dsn", webhook)
                return try InboundSources.decodeReport(webhook).webhook
            }
        }
    }
}
