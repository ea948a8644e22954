// Open-loop HTTP load at a fixed rate (the wrk2 model), for latency targets stated "at N/s".
//
// Request i is due at start + i / rate, whether or not earlier ones have been answered, and its
// latency is measured from that due time, not from when a socket was free to send it. A server
// stall therefore shows up in every request that was due during it (coordinated omission is
// accounted for by construction, not by back-filling a histogram).
// Why not autocannon's overallRate: it lets each connection send back to back until it has used
// its share of the second, then waits for the next second (bursts, not a rate), and its
// omission correction takes ceil(1 / per-connection rate) = 1 ms as the expected interval.
import { Agent, request } from 'node:http';

export interface OpenLoopOptions {
  url: string;
  /** Requests per second, spread evenly. */
  rate: number;
  durationSeconds: number;
  /** Upper bound on open sockets (keep-alive); requests due while all are busy wait for one. */
  connections: number;
  headers: Record<string, string>;
  /** Path of request number i. */
  path: (i: number) => string;
  /** GET (default) or POST with `body(i)` as the request body. */
  method?: 'GET' | 'POST';
  body?: (i: number) => string | Buffer;
  /** A request not answered within this is counted as a timeout. */
  timeoutMs?: number;
  /**
   * Keep-alive sockets to reuse (e.g. those a warm-up opened), so the measured window is the
   * steady state and not the set-up of its connections. Left open; the caller destroys it.
   */
  agent?: Agent;
}

export interface OpenLoopResult {
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  durationSeconds: number;
  /** Requests that had to open a connection (none free to reuse). */
  newConnections: number;
  /** Latency percentiles in ms (2xx answers, measured from each request's due time). */
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

export async function openLoop(opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const agent = opts.agent ?? new Agent({ keepAlive: true, maxSockets: opts.connections });
  const target = new URL(opts.url);
  const total = Math.round(opts.rate * opts.durationSeconds);
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let done = 0;
  let sent = 0;
  let newConnections = 0;
  const start = performance.now();

  const finished = new Promise<void>((resolve) => {
    const settle = () => {
      if (++done === total) resolve();
    };
    const fire = (i: number) => {
      const due = start + (i * 1000) / opts.rate;
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: opts.method ?? 'GET',
          path: opts.path(i),
          headers: opts.headers,
          timeout: opts.timeoutMs ?? 10_000
        },
        (res) => {
          if (!req.reusedSocket) newConnections++;
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) {
              ok++;
              latencies.push(performance.now() - due);
            } else {
              non2xx++;
            }
            settle();
          });
        }
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        settle();
      });
      req.end(opts.body ? opts.body(i) : undefined);
    };
    // Send every request that is due, then sleep until the next one is (timers are ~1 ms).
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * opts.rate) / 1000) + 1);
      while (sent < due) fire(sent++);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  await finished;
  const durationSeconds = (performance.now() - start) / 1000;
  if (!opts.agent) agent.destroy();
  latencies.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    sent,
    ok,
    non2xx,
    errors,
    durationSeconds,
    newConnections,
    p50: round(percentile(latencies, 50)),
    p90: round(percentile(latencies, 90)),
    p99: round(percentile(latencies, 99)),
    max: round(latencies[latencies.length - 1] ?? NaN)
  };
}
