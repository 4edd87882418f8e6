// An OpenTelemetry collector's OTLP/HTTP trace endpoint (JSON encoding), as far as tests need one: it
// keeps every span it is sent, with the name of the service that sent it.
import { createServer } from 'node:http';
import { serveOnLoopback } from './ports.ts';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpExport {
  resourceSpans?: { resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: OtlpAttribute[] }[] }[] }[];
}

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  attributes: Record<string, unknown>;
}

const plain = (attributes: OtlpAttribute[] = []) => Object.fromEntries(attributes.map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.boolValue ?? null]));

export async function startOtlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; raw: string[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const raw: string[] = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.method !== 'POST' || req.url !== '/v1/traces' || !/json/.test(req.headers['content-type'] ?? '')) {
      res.writeHead(404).end();
      return;
    }
    raw.push(body);
    for (const resourceSpans of (JSON.parse(body) as OtlpExport).resourceSpans ?? []) {
      const service = String(plain(resourceSpans.resource?.attributes)['service.name']);
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) spans.push({ service, traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId || null, name: span.name, attributes: plain(span.attributes) });
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  const url = await serveOnLoopback(server);
  return { url, spans, raw, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
