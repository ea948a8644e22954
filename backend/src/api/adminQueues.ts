// bull-board at /admin/queues, for admins only.
//
// Browsers cannot easily send a bearer header to a page, so ONLY on this path the admin token
// may also come from `?token=<jwt>` or the `di_admin_token` cookie. A valid ?token= is moved
// into an HttpOnly, SameSite=Strict cookie scoped to /admin/queues, and the browser is
// redirected to the same URL without it (so the token leaves the address bar and history);
// the logger masks ?token= in URLs and the cookie header. Non-admins get 403, no token 401.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { bearerToken, type Authenticator } from './auth.ts';
import { toErrorBody } from './errors.ts';

export const ADMIN_COOKIE = 'di_admin_token';
const BASE_PATH = '/admin/queues';

// bull-board's page uses inline styles and Google fonts; everything else stays 'self'.
const BOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com",
  "font-src 'self' https://fonts.gstatic.com",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "object-src 'none'"
].join('; ');

export function readCookie(request: FastifyRequest, name: string): string | null {
  const header = request.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name)
      return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

function tokenFromQuery(request: FastifyRequest): string | null {
  const token = (request.query as Record<string, unknown> | undefined)?.token;
  return typeof token === 'string' && token ? token : null;
}

function urlWithoutToken(url: string): string {
  const [path, query = ''] = url.split('?', 2) as [string, string?];
  const params = new URLSearchParams(query);
  params.delete('token');
  const rest = params.toString();
  return rest ? `${path}?${rest}` : (path ?? BASE_PATH);
}

function secondsUntilExpiry(token: string): number {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      exp?: unknown;
    };
    if (typeof payload.exp === 'number')
      return Math.max(0, Math.floor(payload.exp - Date.now() / 1000));
  } catch {
    // the token was verified already; a missing exp only shortens the cookie
  }
  return 300;
}

export interface AdminQueuesOptions {
  authenticator: Authenticator;
  queues: Record<string, Queue>;
}

export const adminQueues: FastifyPluginAsync<AdminQueuesOptions> = async (scope, opts) => {
  const fail = (reply: FastifyReply, error: unknown) => {
    const { status, body } = toErrorBody(error);
    return reply.status(status).send(body);
  };

  scope.addHook('onRequest', async (request, reply) => {
    const fromQuery = tokenFromQuery(request);
    const token = bearerToken(request) ?? fromQuery ?? readCookie(request, ADMIN_COOKIE);
    if (!token) {
      return fail(reply, {
        statusCode: 401,
        message: 'admin token required: ?token=, cookie or bearer header'
      });
    }
    try {
      const { principal } = await opts.authenticator.authenticate(token);
      if (principal.role !== 'admin') {
        return fail(reply, { statusCode: 403, message: 'the queue dashboard is for admins only' });
      }
    } catch (err) {
      return fail(reply, err);
    }
    if (fromQuery) {
      const secure = request.protocol === 'https' ? '; Secure' : '';
      void reply.header(
        'set-cookie',
        `${ADMIN_COOKIE}=${encodeURIComponent(fromQuery)}; Path=${BASE_PATH}; HttpOnly; SameSite=Strict; Max-Age=${secondsUntilExpiry(fromQuery)}${secure}`
      );
      return reply.redirect(urlWithoutToken(request.url), 303);
    }
    void reply.header('content-security-policy', BOARD_CSP);
  });

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BASE_PATH);
  createBullBoard({
    queues: Object.values(opts.queues).map((q) => new BullMQAdapter(q)),
    serverAdapter
  });
  await scope.register(serverAdapter.registerPlugin());
};
