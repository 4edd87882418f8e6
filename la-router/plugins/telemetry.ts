// What the platform engineer watches: Prometheus metrics (requests and latency per operation, subgraph
// fetches per source, errors by code, audit writes) and one structured log line per request. Neither
// carries personal data, nor any text a caller chose: an operation is named by its trusted document's
// name, or `other` (`anonymous` without a name); an error by a code from the contract's list, or
// `other`. So the series, and the router's memory, stay bounded however many names callers invent.
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, parse } from 'graphql';
import type { Logger } from 'pino';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CODES } from '../../lib/graphql/errors.ts';
import type { RouterContext } from '../context.ts';
import type { TrustedDocuments } from './trusted-documents.ts';

/** The operation names the trusted documents define: the only ones that become labels or log values. */
export function operationNames(manifests: readonly TrustedDocuments[]): Set<string> {
  const names = new Set<string>();
  for (const manifest of manifests) {
    for (const body of manifest.values()) {
      try {
        for (const definition of parse(body).definitions) if (definition.kind === Kind.OPERATION_DEFINITION && definition.name) names.add(definition.name.value);
      } catch {
        // A manifest's document that does not parse names nothing (and runs nowhere).
      }
    }
  }
  return names;
}

/** The label for an operation the caller named: a trusted document's name, or `other`. */
export const operationLabel = (known: ReadonlySet<string>, name: string | null | undefined): string => (!name ? 'anonymous' : known.has(name) ? name : 'other');
/** The label for an error code: one of the contract's, or `other`. */
export const codeLabel = (code: string): string => (CODES.has(code) || code === 'INTERNAL_SERVER_ERROR' ? code : 'other');

export class RouterMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'mais_router_requests_total', help: 'GraphQL requests, by operation and outcome', labelNames: ['operation', 'outcome'], registers: [this.registry] });
  readonly latency = new Histogram({ name: 'mais_router_request_seconds', help: 'GraphQL request latency, by operation', labelNames: ['operation'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  readonly subgraphLatency = new Histogram({ name: 'mais_router_subgraph_seconds', help: 'Subgraph fetch latency, by subgraph and outcome', labelNames: ['subgraph', 'outcome'], buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3], registers: [this.registry] });
  readonly errors = new Counter({ name: 'mais_router_errors_total', help: 'Errors in answers, by code', labelNames: ['code'], registers: [this.registry] });
  readonly lookups = new Counter({ name: 'mais_router_lookups_total', help: 'Searches (SEARCH) and matches (MATCH) made by caseworkers', labelNames: ['action'], registers: [this.registry] });
  readonly igAlerts = new Counter({ name: 'mais_router_ig_alerts_total', help: 'Alerts written for the information-governance officer, by kind', labelNames: ['kind'], registers: [this.registry] });
  readonly auditWrites = new Counter({ name: 'mais_router_audit_writes_total', help: 'LA audit entries written, by result', labelNames: ['result'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'mais_router_' });
  }
}

export function useTelemetry(options: { metrics: RouterMetrics; logger: Logger; operations: ReadonlySet<string> }): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ response, operationName, errors, contextValue: context }) {
          const seconds = (performance.now() - started) / 1000;
          const operation = operationLabel(options.operations, operationName);
          const body = response.body.kind === 'single' ? response.body.singleResult : null;
          const codes = [...(body?.errors ?? []), ...(errors ?? [])].map((e) => codeLabel(String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')));
          const outcome = codes.length === 0 ? 'ok' : body?.data ? 'partial' : 'error';
          options.metrics.requests.inc({ operation, outcome });
          options.metrics.latency.observe({ operation }, seconds);
          for (const code of codes) options.metrics.errors.inc({ code });
          options.logger.info(
            { traceId: context.traceId, operation, outcome, status: response.http.status ?? 200, ms: Math.round(seconds * 1000), codes: [...new Set(codes)], decision: context.decision, sources: [...context.sources], unavailable: [...context.unavailable] },
            'request',
          );
        },
      };
    },
  };
}
