// Logger and request-id options for the Fastify server (passed to `Fastify({...})` by app.ts).
// Every log line of a request carries its id; secrets and tokens never reach the log.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import pino, { type DestinationStream } from 'pino';
import {
  LogController,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions
} from 'fastify';

/** Header a caller (or a proxy) may send to correlate logs; echoed back on the response. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Query parameters that may carry credentials (bull-board's ?token=): masked in logged URLs. */
const SECRET_QUERY_PARAMS = ['token', 'access_token', 'jwt'];

/** Paths pino masks in every log line (headers and any object that happens to be logged). */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.secret',
  '*.token',
  '*.privateKey',
  '*.privateKeyEnc',
  '*.webhookSecretEnc'
];

/** Replaces credential-bearing query values in a URL with [REDACTED]. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  let changed = false;
  for (const name of SECRET_QUERY_PARAMS) {
    if (params.has(name)) {
      params.set(name, '[REDACTED]');
      changed = true;
    }
  }
  return changed ? `${url.slice(0, q)}?${params.toString()}` : url;
}

/** Accepts a caller's request id when it is short and plain; otherwise makes a new one. */
export function genReqId(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  if (typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given)) return given;
  return randomUUID();
}

/**
 * The one access-log line of a request, written when its response is sent (the API plugin
 * calls it from its onResponse hook, for every route of the app). It replaces Fastify's two
 * default lines ("incoming request" + "request completed"): half the log volume per request.
 */
export function logRequest(request: FastifyRequest, reply: FastifyReply, ms: number): void {
  request.log.info(
    {
      method: request.method,
      url: redactUrl(request.url),
      status: reply.statusCode,
      ms: Math.round(ms * 100) / 100
    },
    'request'
  );
}

/** Log lines wait at most this long in the buffer of `logDestination`. */
export const LOG_FLUSH_MS = 250;

/**
 * The process's log destination: stdout (or `dest`, a path or fd), written asynchronously in
 * blocks of at least 4 KB instead of one write() per line, and flushed every LOG_FLUSH_MS.
 * At 1,000 requests/s one access line per request as its own syscall cost ~4% of the API's
 * CPU. The buffer is flushed when the process exits (pino registers that for asynchronous
 * destinations); only a hard kill (SIGKILL, OOM) loses the last LOG_FLUSH_MS of lines.
 * Use one destination per process for every logger, so lines never interleave mid-line.
 */
export function logDestination(dest: number | string = 1) {
  return pino.destination({ dest, sync: false, minLength: 4096, periodicFlush: LOG_FLUSH_MS });
}

/**
 * The server options app.ts passes to Fastify: logger with redaction and request ids.
 * Fastify's own per-request lines are off (through a LogController, as Fastify 5 documents:
 * the top-level disableRequestLogging option is deprecated, FSTDEP023); `logRequest` writes
 * one line per request instead.
 */
export function serverLogOptions(
  level: string,
  stream?: DestinationStream
): Pick<FastifyServerOptions, 'logger' | 'genReqId' | 'requestIdHeader' | 'logController'> {
  return {
    logController: new LogController({ disableRequestLogging: true }),
    logger: {
      level,
      // Default (none given): pino's own, synchronous stdout.
      ...(stream ? { stream } : {}),
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      serializers: {
        req(request: { method: string; url: string; id: string; ip?: string }) {
          return {
            id: request.id,
            method: request.method,
            url: redactUrl(request.url),
            ip: request.ip
          };
        }
      }
    },
    // genReqId reads x-request-id itself (validated), so Fastify's own header lookup is off.
    requestIdHeader: false,
    genReqId // each request's log lines carry it as reqId (Fastify's default label)
  };
}
