import CoreMetrics
import Prometheus
import SeqbridgeApp
import SeqbridgeStore

/// The service's counters, in a registry of its own so that several servers
/// (tests) never share one; `GET /metrics` prints it in Prometheus text.
public final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory

    public init() {
        factory = PrometheusMetricsFactory(registry: registry)
    }

    func request(provider: String, outcome: String) {
        Counter(
            label: "seqbridge_webhook_requests_total", dimensions: [("provider", provider), ("outcome", outcome)],
            factory: factory
        ).increment()
    }

    func events(_ events: [ProviderEvent], summary: IntakeSummary) {
        for event in events {
            Counter(
                label: "seqbridge_events_total", dimensions: [("source", event.source), ("type", event.type.rawValue)],
                factory: factory
            ).increment()
        }
        for (name, count) in [
            ("applied", summary.applied), ("duplicate", summary.duplicates), ("unmatched", summary.unmatched),
            ("malformed", summary.malformed),
        ] where count > 0 {
            Counter(label: "seqbridge_event_dispositions_total", dimensions: [("disposition", name)], factory: factory)
                .increment(by: count)
        }
    }

    func transitions(_ changes: [StatusChange: Int]) {
        for (change, count) in changes {
            Counter(
                label: "seqbridge_status_transitions_total",
                dimensions: [
                    ("from", change.from.rawValue), ("to", change.to.rawValue),
                    ("reason", change.reason?.rawValue ?? ""),
                ], factory: factory
            ).increment(by: count)
        }
    }

    /// Prometheus text exposition.
    public func text() -> String { registry.emitToString() }
}
