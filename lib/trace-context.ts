// Trace context across the services: W3C trace ids for every request, and, when an OpenTelemetry
// collector is configured (the standard OTEL_EXPORTER_OTLP_ENDPOINT or _TRACES_ENDPOINT), spans
// exported to it over OTLP/HTTP: each service's server span, the router's gateway spans (plan, execute,
// one fetch per subgraph) and the hops between them, joined by `traceparent`. Spans carry operation
// names, paths and status codes, never a query's text, variables or answers.
import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { context, isSpanContextValid, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';

const pool = Buffer.allocUnsafe(4096);
let offset = pool.length;

// Ids come from a pool of random bytes refilled 4 KiB at a time, not a call into the system's random
// source for each.
function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

export const newTraceId = () => randomHex(16);
export const newSpanId = () => randomHex(8);

/** The trace this code runs in: the active span's when tracing, else null. */
export function activeTraceId(): string | null {
  const span = trace.getActiveSpan()?.spanContext();
  return span && isSpanContextValid(span) ? span.traceId : null;
}

/** Sets `traceparent` on an outgoing call: the active span's context when tracing, else a new span in `traceId`. */
export function setTraceparent(headers: { set(name: string, value: string): void }, traceId: string): void {
  const span = trace.getActiveSpan()?.spanContext();
  if (span && isSpanContextValid(span)) {
    propagation.inject(context.active(), headers, { set: (carrier, key, value) => carrier.set(key, value) });
    return;
  }
  headers.set('traceparent', `00-${traceId}-${newSpanId()}-01`);
}

const tracer = trace.getTracer('mais');

/** Runs `handle` in a server span for one HTTP request, continuing the caller's trace. */
export function inServerSpan<T>(method: string, path: string, headers: IncomingHttpHeaders, handle: (span: Span) => Promise<T>): Promise<T> {
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  return tracer.startActiveSpan(`${method} ${path}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path } }, parent, async (span) => {
    try {
      return await handle(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

export interface Tracing {
  /** Sends the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * Starts exporting this process's spans when a collector is configured (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_SDK_DISABLED=true turns it off); null otherwise, when spans
 * cost next to nothing. The SDK is loaded only when used.
 */
export async function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Promise<Tracing | null> {
  if (env.OTEL_SDK_DISABLED === 'true' || !(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)) return null;
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.namespace': 'mais', 'service.name': env.OTEL_SERVICE_NAME ?? serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}
