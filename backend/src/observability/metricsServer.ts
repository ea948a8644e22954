// A bare /metrics endpoint for processes without the HTTP app (worker, scheduler), so their job
// and Salesforce metrics can be scraped too. Loopback by default; same registry as the app.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registry } from './metrics.ts';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function serveMetrics(
  opts: { host?: string; port?: number } = {}
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          code: 'not_found',
          message: 'only GET /metrics is served here',
          details: null
        })
      );
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      () => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ code: 'internal_error', message: 'metrics unavailable', details: null })
        );
      }
    );
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  };
}
