import BrainApplication
import OTel
import ServiceLifecycle
import Tracing

/// The OpenTelemetry tracer and the background service that batches and exports its spans over
/// OTLP/HTTP. Made per gateway, never bootstrapped globally: several gateways in one process
/// (tests) each keep their own. Standard `OTEL_*` variables (headers, sampler, service name,
/// protocol) still apply on top, read by swift-otel.
public enum OTLPTracing {
    public static func backend(_ settings: TracingSettings) throws -> (tracer: any Tracer, service: any Service) {
        var configuration = OTel.Configuration.default
        configuration.serviceName = "brain-gateway"
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        // The variable is a base URL; traces go to its `/v1/traces` (OTLP/HTTP specification).
        let base = settings.endpoint.hasSuffix("/") ? String(settings.endpoint.dropLast()) : settings.endpoint
        configuration.traces.otlpExporter.endpoint = base + "/v1/traces"
        configuration.traces.otlpExporter.protocol = settings.format == .json ? .httpJSON : .httpProtobuf
        configuration.traces.batchSpanProcessor.scheduleDelay = .milliseconds(settings.exportDelayMilliseconds)
        let (tracer, service) = try OTel.makeTracingBackend(configuration: configuration)
        return (tracer, service)
    }
}
