import BrainInfrastructure
import NIOHTTP1
import Tracing

/// Tracing stage (OpenTelemetry through swift-distributed-tracing), on only when an exporter is
/// configured; otherwise it costs one `nil` check per request and `TraceContext` alone keeps
/// `traceparent` flowing.
///
/// Each request gets a server span that continues the client's W3C context (extracted by the
/// tracer's propagator). The pipeline stages run synchronously on the event loop in
/// microseconds, so instead of wrapping each in a scope they are recorded afterwards as child
/// spans with the instants taken between them. The upstream call is a client span whose context
/// is what the upstream receives in `traceparent`.
public struct RequestTracing: Sendable {
    let tracer: (any Tracer)?

    public init(tracer: (any Tracer)?) {
        self.tracer = tracer
    }

    public static let off = RequestTracing(tracer: nil)

    func start(_ head: some RequestHeadReading) -> RequestTrace? {
        guard let tracer else { return nil }
        var context = InstrumentationContext.topLevel
        tracer.extract(head.headers, into: &context, using: HeaderExtractor(fields: head.headers))
        let now = DefaultTracerClock.now
        let span = tracer.startSpan(head.method.rawValue, context: context, ofKind: .server, at: now)
        span.attributes["http.request.method"] = head.method.rawValue
        // The path without its query, which may carry secrets (`?access_token=`).
        span.attributes["url.path"] = String(head.uri.prefix { $0 != "?" })
        return RequestTrace(tracer: tracer, span: span, startedAt: now)
    }

    struct HeaderExtractor<Fields: HeaderFieldReading>: Extractor {
        /// Names the carrier type; the carrier itself comes with each call.
        init(fields: Fields) {}
        func extract(key: String, from carrier: Fields) -> String? { carrier.first(name: key) }
    }

    struct HeaderInjector: Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout HTTPHeaders) {
            carrier.replaceOrAdd(name: key, value: value)
        }
    }
}

/// One request's spans. Touched only on its connection's event loop.
final class RequestTrace {
    private let tracer: any Tracer
    private let span: any Span
    private var mark: DefaultTracerClock.Instant
    private var upstream: (any Span)?

    init(tracer: any Tracer, span: any Span, startedAt: DefaultTracerClock.Instant) {
        self.tracer = tracer
        self.span = span
        self.mark = startedAt
    }

    /// Records the stage that ran since the previous mark as a child span.
    func stage(_ name: String) {
        let now = DefaultTracerClock.now
        let child = tracer.startSpan(name, context: span.context, ofKind: .internal, at: mark)
        child.end(at: now)
        mark = now
    }

    /// Names the server span after the service once the route is known (`GET chat`).
    func routed(service: String, method: String) {
        span.operationName = "\(method) \(service)"
        span.attributes["brain.service"] = service
    }

    /// Starts the upstream attempt's client span; the `traceparent` the upstream must receive.
    func startUpstream(instance: String, attempt: Int) -> String? {
        upstream?.end()
        let now = DefaultTracerClock.now
        let client = tracer.startSpan("upstream", context: span.context, ofKind: .client, at: now)
        client.attributes["server.address"] = instance
        client.attributes["brain.attempt"] = attempt
        mark = now
        upstream = client
        var headers = HTTPHeaders()
        tracer.inject(client.context, into: &headers, using: RequestTracing.HeaderInjector())
        return headers.first(name: "traceparent")
    }

    func upstreamFinished(status: Int?, error: String?) {
        guard let client = upstream else { return }
        upstream = nil
        if let status { client.attributes["http.response.status_code"] = status }
        if let error { client.setStatus(SpanStatus(code: .error, message: error)) }
        client.end()
    }

    func finish(status: UInt, error: String?) {
        upstreamFinished(status: nil, error: error)
        span.attributes["http.response.status_code"] = Int(status)
        if status >= 500 { span.setStatus(SpanStatus(code: .error, message: error)) }
        span.end()
    }
}
