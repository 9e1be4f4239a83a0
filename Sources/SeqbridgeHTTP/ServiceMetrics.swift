import CoreMetrics
import NIOConcurrencyHelpers
import Prometheus
import SeqbridgeApp
import SeqbridgeStore

/// The service's counters, in a registry of its own so that several servers
/// (tests) never share one; `GET /metrics` prints it in Prometheus text.
public final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory

    /// Each counter made once: making one goes through the registry's lock and lookups.
    private let counters = NIOLockedValueBox<[CounterKey: CoreMetrics.Counter]>([:])

    private struct CounterKey: Hashable {
        var label: String
        var values: [String]
    }

    public init() {
        factory = PrometheusMetricsFactory(registry: registry)
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Counter {
        let key = CounterKey(label: label, values: dimensions.map(\.1))
        return counters.withLockedValue { known in
            if let counter = known[key] { return counter }
            let counter = CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory)
            known[key] = counter
            return counter
        }
    }

    func request(provider: String, outcome: String) {
        counter("seqbridge_webhook_requests_total", [("provider", provider), ("outcome", outcome)]).increment()
    }

    func events(_ events: [ProviderEvent], summary: IntakeSummary) {
        // Runs of the same kind counted together: a batch is mostly one source, often one type.
        var index = events.startIndex
        while index < events.endIndex {
            let kind = (events[index].source, events[index].type)
            var end = index + 1
            while end < events.endIndex, events[end].source == kind.0, events[end].type == kind.1 { end += 1 }
            counter("seqbridge_events_total", [("source", kind.0), ("type", kind.1.rawValue)])
                .increment(by: end - index)
            index = end
        }
        for (name, count) in [
            ("applied", summary.applied), ("duplicate", summary.duplicates), ("unmatched", summary.unmatched),
            ("malformed", summary.malformed),
        ] where count > 0 {
            counter("seqbridge_event_dispositions_total", [("disposition", name)]).increment(by: count)
        }
    }

    func transitions(_ changes: [StatusChange: Int]) {
        for (change, count) in changes {
            counter(
                "seqbridge_status_transitions_total",
                [("from", change.from.rawValue), ("to", change.to.rawValue), ("reason", change.reason?.rawValue ?? "")]
            ).increment(by: count)
        }
    }

    /// Prometheus text exposition.
    public func text() -> String { registry.emitToString() }
}
