import Hummingbird
import Prometheus

/// What `GET /metrics` tells Prometheus about this registry process:
/// requests by route, method and status; pushes refused because the
/// registry's head moved (409); events stored by pushes; pulls refused
/// because the store holds an edited event; and how long pulls take. Counted per process: several registry processes on one
/// store are scraped one by one and summed by Prometheus.
package final class RegistryMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let conflicts: Counter
    let eventsStored: Counter
    let pullLatency: DurationHistogram
    let corruptEvents: Counter

    package init() {
        conflicts = registry.makeCounter(descriptor: Self.name(
            "push_conflicts", "total", "Pushes refused with 409 because the project's head moved (the client rebases and retries)."))
        eventsStored = registry.makeCounter(descriptor: Self.name("events_stored", "total", "Events appended by pushes to this process."))
        corruptEvents = registry.makeCounter(descriptor: Self.name(
            "corrupt_events", "total", "Pulls refused because the store holds an event whose body does not hash to its id (the store was edited outside the registry)."))
        pullLatency = registry.makeDurationHistogram(
            descriptor: Self.name("pull_duration", "seconds", "Time to read one page of a pull from the store."),
            buckets: [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                      .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5)])
    }

    /// `strata_registry_NAME_UNIT`.
    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "strata", subsystem: "registry", metricName: metric, unitName: unit, helpText: help)
    }

    static var requests: MetricNameDescriptor { name("requests", "total", "HTTP requests answered, by route pattern, method and status.") }

    func request(route: String, method: String, status: Int) {
        registry.makeCounter(descriptor: Self.requests, labels: [("route", route), ("method", method), ("status", String(status))]).increment()
    }

    /// The Prometheus text exposition format.
    package var text: [UInt8] { registry.emitToBuffer() }
}

/// Counts every answer by the route it matched (its pattern, so a project's
/// name does not make a new series), method and status.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: RegistryMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            let route = context.endpointPath ?? "unmatched"
            metrics.request(route: route, method: request.method.rawValue, status: response.status.code)
            if response.status.code == 409 && route == "/v1/projects/{project}/events" { metrics.conflicts.increment() }
            return response
        } catch {
            let status = (error as? HTTPResponseError)?.status.code ?? 500
            metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: status)
            throw error
        }
    }
}
