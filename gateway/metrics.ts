// What DfE's platform team watches at the gateway: calls to each DfE service by organisation and status,
// token requests, relay requests by custodian, transport and outcome, and pull connections open. No label
// or log field carries a child's identifier or anything a custodian answered.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly calls = new Counter({ name: 'mais_gateway_calls_total', help: 'Calls to DfE services through the gateway, by service, organisation and HTTP status', labelNames: ['service', 'organisation', 'status'], registers: [this.registry] });
  readonly relayFetches = new Counter({ name: 'mais_gateway_relay_fetches_total', help: 'Relay requests to custodians, by custodian, transport and outcome', labelNames: ['custodian', 'transport', 'outcome'], registers: [this.registry] });
  readonly relaySeconds = new Histogram({ name: 'mais_gateway_relay_seconds', help: 'Time for a custodian to answer a relay request, by transport', labelNames: ['transport'], buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5], registers: [this.registry] });
  readonly relayBytes = new Counter({ name: 'mais_gateway_relay_bytes_total', help: 'Bytes of custodians’ answers carried by the relay (never kept)', labelNames: ['custodian'], registers: [this.registry] });
  readonly pullConnections = new Gauge({ name: 'mais_gateway_pull_connections', help: 'LAs’ open pull-mode connections to the relay', labelNames: ['organisation'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'mais_gateway_' });
  }
}
