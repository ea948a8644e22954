// OAuth 2.0 JWT bearer flow (server to server): the backend signs a short-lived assertion
// with the connected app's private key (RS256, iss = consumer key, sub = integration
// username, aud = login URL, exp = now + 3 minutes) and trades it at
// {loginUrl}/services/oauth2/token for an access token and the org's instance URL.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { SalesforceAuthError, SalesforceError, SalesforceTimeoutError } from './errors.ts';
import { sameSalesforceId } from './salesforceId.ts';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ASSERTION_LIFETIME_S = 180;
const OPERATION = 'oauth2/token';

export interface JwtBearerConfig {
  orgId: string;
  loginUrl: string;
  clientId: string;
  username: string;
  privateKeyPem: string;
}

export interface SalesforceToken {
  accessToken: string;
  instanceUrl: string;
  /** Identity URL: {loginUrl}/id/{orgId}/{userId}. */
  identityUrl: string;
  orgId: string;
  userId: string;
  scope: string | null;
  issuedAt: number;
}

export function trimUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Parses a PEM private key (PKCS#8 or PKCS#1 RSA); throws a clear error otherwise. */
export function loadPrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`private key is not a readable PEM key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Error(`private key must be RSA (RS256), got ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  return key;
}

export async function createJwtAssertion(
  config: Pick<JwtBearerConfig, 'loginUrl' | 'clientId' | 'username' | 'privateKeyPem'>,
  now = Date.now()
): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(config.clientId)
    .setSubject(config.username)
    .setAudience(trimUrl(config.loginUrl))
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_LIFETIME_S)
    .sign(loadPrivateKey(config.privateKeyPem));
}

interface TokenBody {
  access_token?: unknown;
  instance_url?: unknown;
  id?: unknown;
  scope?: unknown;
  issued_at?: unknown;
  error?: unknown;
  error_description?: unknown;
}

/**
 * One token request. Throws SalesforceAuthError when Salesforce refuses (4xx), a retryable
 * SalesforceError for outages (5xx, network), SalesforceTimeoutError after `timeoutMs`.
 */
export async function requestJwtBearerToken(
  config: JwtBearerConfig,
  timeoutMs: number
): Promise<SalesforceToken> {
  const details = { orgId: config.orgId, operation: OPERATION };
  const assertion = await createJwtAssertion(config);
  const url = `${trimUrl(config.loginUrl)}/services/oauth2/token`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
      signal: AbortSignal.timeout(timeoutMs)
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      throw new SalesforceTimeoutError(
        `token request to ${url} timed out after ${timeoutMs} ms`,
        details
      );
    }
    const code = e.cause?.code ?? 'NETWORK_ERROR';
    throw new SalesforceError(`token request to ${url} failed: ${e.cause?.code ?? e.message}`, {
      ...details,
      errorCode: code,
      retryable: true
    });
  }
  const text = await response.text();
  let body: TokenBody = {};
  try {
    body = JSON.parse(text) as TokenBody;
  } catch {
    // Not JSON (an HTML error page): described by the status below.
  }
  if (!response.ok) {
    const error = typeof body.error === 'string' ? body.error : `ERROR_HTTP_${response.status}`;
    const description =
      typeof body.error_description === 'string' ? body.error_description : text.slice(0, 200);
    const message = `Salesforce refused the JWT bearer token for ${config.username}: ${error}: ${description}`;
    if (response.status >= 500) {
      throw new SalesforceError(message, { ...details, errorCode: error, retryable: true });
    }
    throw new SalesforceAuthError(message, { ...details, errorCode: error });
  }
  if (
    typeof body.access_token !== 'string' ||
    typeof body.instance_url !== 'string' ||
    typeof body.id !== 'string'
  ) {
    throw new SalesforceError('token response lacks access_token, instance_url or id', {
      ...details,
      errorCode: 'UNEXPECTED_RESPONSE',
      retryable: false
    });
  }
  // The identity URL ends with /{orgId}/{userId}: the token must belong to the org we expect.
  const [tokenOrgId = '', userId = ''] = body.id.split('/').slice(-2);
  if (!sameSalesforceId(tokenOrgId, config.orgId)) {
    throw new SalesforceAuthError(
      `the token for ${config.username} belongs to org ${tokenOrgId}, not ${config.orgId}: check the username and login URL`,
      { ...details, errorCode: 'ORG_MISMATCH' }
    );
  }
  return {
    accessToken: body.access_token,
    instanceUrl: trimUrl(body.instance_url),
    identityUrl: body.id,
    orgId: tokenOrgId,
    userId,
    scope: typeof body.scope === 'string' ? body.scope : null,
    issuedAt: typeof body.issued_at === 'string' ? Number(body.issued_at) : Date.now()
  };
}
