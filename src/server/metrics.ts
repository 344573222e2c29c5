/**
 * Prometheus metrics (`GET /metrics`): request counts and latency by route, posture
 * reports by verdict, quarantines by reason, machines by status. Labels are route
 * patterns and enum values only — never ids, keys, tokens or hostnames.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServerMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly latency: Histogram<'method' | 'route'>;
  readonly reports: Counter<'verdict' | 'mode'>;
  readonly quarantines: Counter<'reason'>;
  readonly releases: Counter<'kind'>;
  readonly machines: Gauge<'status'>;
}

export function createMetrics(countMachines: () => Promise<Record<string, number>>): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ztna_server_' });
  return {
    registry,
    requests: new Counter({ name: 'ztna_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    latency: new Histogram({
      name: 'ztna_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    reports: new Counter({ name: 'ztna_posture_reports_total', help: 'Posture reports by verdict and enforcement mode', labelNames: ['verdict', 'mode'], registers: [registry] }),
    quarantines: new Counter({ name: 'ztna_quarantines_total', help: 'Machines quarantined, by reason', labelNames: ['reason'], registers: [registry] }),
    releases: new Counter({ name: 'ztna_quarantine_releases_total', help: 'Machines released from quarantine, by kind', labelNames: ['kind'], registers: [registry] }),
    machines: new Gauge({
      name: 'ztna_machines',
      help: 'Machines by status',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        const counts = await countMachines();
        for (const status of ['online', 'offline', 'quarantined']) this.set({ status }, counts[status] ?? 0);
      },
    }),
  };
}
