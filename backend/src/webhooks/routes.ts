// Webhook routes (an encapsulated plugin: its raw-body parser and error replies stay here).
//   POST /webhooks/salesforce                   JSON batch from the package's Apex
//   POST /webhooks/salesforce/outbound-message  Salesforce Outbound Messages (SOAP)
// Order of work: raw bytes (body limit) -> authenticate -> parse + validate -> org check ->
// INSERT into the inbox (one statement, ON CONFLICT DO NOTHING) -> enqueue -> 202 / Ack.
// Nothing is stored for a rejected request. Redis down: still accepted (the sweeper enqueues).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../db/client.ts';
import { insertInboxEvents, type InboxSource } from '../db/repositories/inbox.ts';
import type { Enqueuer } from '../queue/enqueuer.ts';
import { authenticateWebhook, WebhookAuthError, type OrgCredentialLookup } from './authenticate.ts';
import { parseOutboundMessage, OUTBOUND_ACK, soapFault } from './outboundMessage.ts';
import { outboundTokenMatches } from './outboundToken.ts';
import { parseWebhookPayload, PayloadError } from './payload.ts';
import { orgKey } from '../crm/salesforceId.ts';

const ORG_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

export interface WebhookRoutesOptions {
  database: Database;
  enqueuer: Pick<Enqueuer, 'inboxEvents'>;
  lookupOrg: OrgCredentialLookup;
  /** Expected `aud` of org JWTs (config DI_JWT_AUDIENCE). */
  audience: string;
  /** Largest body accepted, bytes (config DI_WEBHOOK_BODY_LIMIT). */
  bodyLimit: number;
}

interface ErrorReply {
  code: string;
  message: string;
  details: unknown;
}

const errorBody = (code: string, message: string, details: unknown = null): ErrorReply => ({
  code,
  message,
  details
});

export async function webhookRoutes(app: FastifyInstance, opts: WebhookRoutesOptions) {
  const { database, enqueuer, lookupOrg, audience, bodyLimit } = opts;

  // Every body arrives as raw bytes: signatures are checked on exactly what was sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => {
    done(null, body);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    const soap = request.url.startsWith('/webhooks/salesforce/outbound-message');
    if (status === 413) {
      const message = `body exceeds the ${bodyLimit}-byte limit`;
      return soap
        ? sendFault(reply, 413, 'soapenv:Client', message)
        : reply.code(413).send(errorBody('payload_too_large', message));
    }
    if (status >= 400 && status < 500) {
      return soap
        ? sendFault(reply, status, 'soapenv:Client', error.message)
        : reply.code(status).send(errorBody('bad_request', error.message));
    }
    request.log.error({ err: error }, 'webhook failed');
    return soap
      ? sendFault(reply, 500, 'soapenv:Server', 'internal error, retry later')
      : reply.code(500).send(errorBody('internal_error', 'internal error, retry later'));
  });

  const rawBody = (request: FastifyRequest): Buffer =>
    Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);

  /** Stores the events (one statement), then enqueues the new rows; never fails on Redis. */
  async function accept(
    request: FastifyRequest,
    orgId: string,
    source: InboxSource,
    events: { id: string; type: string; occurredAt: string }[]
  ) {
    const { inserted, duplicates } = await insertInboxEvents(
      database,
      orgId,
      source,
      events.map((e) => ({ eventId: e.id, type: e.type, occurredAt: e.occurredAt, payload: e }))
    );
    const ids = inserted.map((r) => r.id);
    if (ids.length > 0) {
      // No second write to mark the rows enqueued: it would cost another durable commit per
      // request. The sweeper checks rows that are not done after a while against the queue.
      try {
        await enqueuer.inboxEvents(orgId, ids);
      } catch (err) {
        // Stored is what matters: the sweeper enqueues rows that were never enqueued.
        request.log.warn(
          { err, orgId, rows: ids.length },
          'enqueue failed; the sweeper will retry'
        );
      }
    }
    return { accepted: ids.length, duplicates };
  }

  app.post(
    '/webhooks/salesforce',
    { bodyLimit, schema: { hide: true } },
    async (request, reply) => {
      const raw = rawBody(request);
      let orgId: string;
      try {
        orgId = await authenticateWebhook(request.headers, raw, lookupOrg, audience);
      } catch (err) {
        if (err instanceof WebhookAuthError) {
          request.log.info({ reason: err.message }, 'webhook rejected: authentication');
          return reply.code(401).send(errorBody('unauthorized', err.message));
        }
        throw err;
      }
      let payload;
      try {
        payload = parseWebhookPayload(raw);
      } catch (err) {
        if (err instanceof PayloadError) {
          return reply.code(400).send(errorBody('validation_failed', err.message, err.issues));
        }
        throw err;
      }
      if (orgKey(payload.orgId) !== orgId) {
        return reply
          .code(403)
          .send(errorBody('forbidden', 'orgId in the body is not the authenticated org'));
      }
      const result = await accept(request, orgId, 'apex', payload.events);
      return reply.code(202).send(result);
    }
  );

  app.post(
    '/webhooks/salesforce/outbound-message',
    { bodyLimit, schema: { hide: true } },
    async (request, reply) => {
      // Outbound Messages cannot sign: the URL carries the org and a per-org token.
      const query = request.query as Record<string, unknown>;
      const named = typeof query.org === 'string' && ORG_ID.test(query.org) ? query.org : '';
      const token = typeof query.token === 'string' ? query.token : '';
      const credentials = named && token ? await lookupOrg(named) : null;
      const org = credentials?.orgId ?? '';
      if (
        !credentials?.webhookSecret ||
        !outboundTokenMatches(token, credentials.webhookSecret, org)
      ) {
        return sendFault(reply, 401, 'soapenv:Client', 'unknown org or bad token');
      }
      let message;
      try {
        message = parseOutboundMessage(rawBody(request));
      } catch (err) {
        if (err instanceof PayloadError) {
          return sendFault(reply, 400, 'soapenv:Client', err.message);
        }
        throw err;
      }
      if (orgKey(message.organizationId) !== org) {
        return sendFault(reply, 403, 'soapenv:Client', 'OrganizationId is not the org of this URL');
      }
      await accept(request, org, 'outbound_message', message.events);
      return reply.code(200).type('text/xml; charset=utf-8').send(OUTBOUND_ACK);
    }
  );
}

function sendFault(
  reply: FastifyReply,
  status: number,
  code: 'soapenv:Client' | 'soapenv:Server',
  message: string
) {
  return reply.code(status).type('text/xml; charset=utf-8').send(soapFault(code, message));
}
