// Prometheus metrics for the whole backend, on one registry of our own (not prom-client's
// global one, so tests and several apps in one process do not collide on registration).
// Other modules import the metric objects below and increment them; /metrics serves the text.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** HTTP request latency. `route` is the route pattern (/api/v1/deals/:dealId), never the raw URL. */
export const httpRequestDuration = new Histogram({
  name: 'di_http_request_duration_seconds',
  help: 'HTTP request duration in seconds, by method, route pattern and status code',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry]
});

/**
 * Jobs per BullMQ queue and state (waiting, active, delayed, failed, completed).
 * Set at scrape time by the collector registered with `setQueueDepthCollector`.
 */
export const queueDepth = new Gauge({
  name: 'di_queue_depth',
  help: 'Jobs in each BullMQ queue by state, read at scrape time',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
  async collect() {
    if (queueDepthCollector) await queueDepthCollector(this);
  }
});

export type QueueDepthCollector = (gauge: typeof queueDepth) => Promise<void>;
let queueDepthCollector: QueueDepthCollector | null = null;

/** The process that owns the queues registers how to read their depth (null to remove). */
export function setQueueDepthCollector(collector: QueueDepthCollector | null): void {
  queueDepthCollector = collector;
}

/** Job processing time; outcome is 'completed' or 'failed'. */
export const jobDuration = new Histogram({
  name: 'di_job_duration_seconds',
  help: 'BullMQ job processing duration in seconds, by queue and outcome',
  labelNames: ['queue', 'outcome'] as const,
  buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry]
});

/** Jobs that failed an attempt. */
export const jobFailures = new Counter({
  name: 'di_job_failures_total',
  help: 'BullMQ job attempts that failed, by queue',
  labelNames: ['queue'] as const,
  registers: [registry]
});

/** Salesforce API calls; outcome is e.g. 'ok', 'error', 'rate_limited', 'timeout'. */
export const salesforceCalls = new Counter({
  name: 'di_salesforce_calls_total',
  help: 'Salesforce API calls by org, endpoint and outcome',
  labelNames: ['org', 'endpoint', 'outcome'] as const,
  registers: [registry]
});

/** New score versions stored (only written when a score changed). */
export const scoreVersionsWritten = new Counter({
  name: 'di_score_versions_written_total',
  help: 'Score versions written, by org',
  labelNames: ['org'] as const,
  registers: [registry]
});
