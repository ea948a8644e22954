// Process configuration from the environment, validated once at start with clear errors.
import { z } from 'zod';

const schema = z.object({
  DATABASE_URL: z.string().url('must be a postgres:// URL'),
  REDIS_URL: z.string().url('must be a redis:// URL'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  /** Port of /metrics in a process without the HTTP app (--role worker / scheduler). */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** HS256 secret for operator/manager API tokens (>= 32 chars). */
  DI_JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),
  /** Audience the backend expects in tokens and webhook JWTs. */
  DI_JWT_AUDIENCE: z.string().default('deal-insights'),
  DI_JWT_ISSUER: z.string().default('deal-insights'),
  /** 32-byte key, base64, for AES-256-GCM encryption of org credentials at rest. */
  DI_ENCRYPTION_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded'),
  DI_WEBHOOK_BODY_LIMIT: z.coerce.number().int().positive().default(1_048_576),
  DI_QUEUE_PREFIX: z.string().default('di'),
  /** Salesforce login URL used when an org has none of its own. */
  SF_LOGIN_URL: z.string().url().default('https://login.salesforce.com')
});

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
