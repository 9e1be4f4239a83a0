import Foundation
import Hummingbird
import Logging
import SeqbridgeApp
import SeqbridgeCore
import SeqbridgeStore
import SeqbridgeWebhooks
import ServiceLifecycle

/// Settings of `seqbridge serve`.
public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    /// Seconds between two scheduler runs; 0 turns the scheduler off.
    public var tickInterval: Int
    public var nightly: NightlySettings?
    public var webhooks: WebhookSettings
    /// For the webhook benchmark: `POST /bench/floor` runs the generic webhook
    /// route with this recorder in place of the store (see `AppendOnlyLog`).
    public var benchFloor: (any BlockingEventRecorder)?

    public init(
        host: String, port: Int, tickInterval: Int, nightly: NightlySettings? = nil,
        webhooks: WebhookSettings = WebhookSettings(), benchFloor: (any BlockingEventRecorder)? = nil
    ) {
        self.host = host
        self.port = port
        self.tickInterval = tickInterval
        self.nightly = nightly
        self.webhooks = webhooks
        self.benchFloor = benchFloor
    }
}

/// Where and when `serve` writes the nightly report.
public struct NightlySettings: Sendable {
    public var directory: String
    public var at: (hour: Int, minute: Int)
    public var keepDays: Int?

    public init(directory: String, at: (hour: Int, minute: Int), keepDays: Int?) {
        self.directory = directory
        self.at = at
        self.keepDays = keepDays
    }
}

/// The routes of the service.
public func buildRouter(
    engine: Engine, webhooks: WebhookSettings = WebhookSettings(), metrics: ServiceMetrics = ServiceMetrics(),
    clock: @escaping @Sendable () -> Timestamp = { SystemNow().now() }, benchFloor: (any BlockingEventRecorder)? = nil
) -> Router<BasicRequestContext> {
    let router = Router()
    let routes = WebhookRoutes(
        engine: engine, settings: webhooks,
        commit: GroupCommit(store: engine.store, onTransitions: { metrics.transitions($0) }), metrics: metrics,
        clock: clock)
    routes.add(to: router)
    routes.addInbound(to: router)
    router.get("/metrics") { _, _ -> Response in
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.text())))
    }
    // The baseline of the webhook benchmark: answers without touching storage.
    router.post("/bench/noop") { request, _ -> Response in
        var request = request
        _ = try await request.collectBody(upTo: 5 << 20)
        return Response(status: .ok)
    }
    // The floor of the same benchmark: the generic route, its events appended and synced, nothing else.
    if let benchFloor {
        let floor = WebhookRoutes(
            engine: engine, settings: webhooks,
            commit: GroupCommit(store: engine.store, recorder: benchFloor, onTransitions: { _ in }),
            metrics: ServiceMetrics(), clock: clock)
        router.post("/bench/floor") { request, context -> Response in
            await floor.handle(request, provider: "generic", logger: context.logger)
        }
    }
    router.get("/healthz") { _, _ -> Response in
        do {
            try await engine.store.ping()
            return json(.ok, #"{"status":"ok"}"#)
        } catch {
            return json(
                .serviceUnavailable, #"{"status":"unavailable","reason":\#(Report.jsonString("\(error)"))}"#)
        }
    }
    return router
}

/// The whole service: HTTP listener plus the scheduler loop.
public func buildApplication(
    engine: Engine, settings: ServerSettings, logger: Logger,
    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    var services: [any Service] = []
    if settings.tickInterval > 0 {
        services.append(SchedulerService(engine: engine, interval: settings.tickInterval, logger: logger))
    }
    if let nightly = settings.nightly {
        services.append(NightlyService(engine: engine, settings: nightly, logger: logger))
    }
    return Application(
        router: buildRouter(engine: engine, webhooks: settings.webhooks, benchFloor: settings.benchFloor),
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "seqbridge"),
        services: services,
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? settings.port) },
        logger: logger)
}

/// Runs `tick` every `interval` seconds until the service shuts down.
struct SchedulerService: Service {
    let engine: Engine
    let interval: Int
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let report = try await engine.tick(now: SystemNow().now())
                    if report.sent + report.deferred + report.bounced + report.renderFailures.count > 0 {
                        logger.info(
                            "tick",
                            metadata: [
                                "sent": "\(report.sent)", "deferred": "\(report.deferred)",
                                "bounced": "\(report.bounced)", "render_failures": "\(report.renderFailures.count)",
                            ])
                    }
                    for failure in report.renderFailures { logger.warning("step not rendered: \(failure)") }
                } catch {
                    // Stopping in the middle of a tick is no failure: the next start picks up.
                    if Task.isCancelled || error is CancellationError { break }
                    logger.error("tick failed: \(error)")
                }
                await pause(for: .seconds(interval))
            }
        }
    }
}

/// Writes the nightly report at the configured UTC time each day.
struct NightlyService: Service {
    let engine: Engine
    let settings: NightlySettings
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let now = SystemNow().now()
                let next = Nightly.nextRun(after: now, hour: settings.at.hour, minute: settings.at.minute)
                await pause(for: .milliseconds(next.millisecondsSinceEpoch - now.millisecondsSinceEpoch))
                if Task.isCancelled { break }
                do {
                    let result = try await engine.nightlyExport(
                        directory: settings.directory, keepDays: settings.keepDays, now: SystemNow().now())
                    logger.info(
                        "nightly report written", metadata: ["path": "\(result.path)", "rows": "\(result.rows)"])
                } catch {
                    if Task.isCancelled || error is CancellationError { break }
                    logger.error("nightly report failed: \(error)")
                }
            }
        }
    }
}

/// Waits; a service being stopped ends the wait early, and its loop then
/// returns instead of reporting the cancellation as a failure.
func pause(for duration: Duration) async {
    try? await Task.sleep(for: duration)
}
