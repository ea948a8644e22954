// Request validation for /api/v1. Like Fastify's default (coerce query strings, apply defaults)
// except that unknown properties are an error instead of being silently dropped: a mistyped
// filter (?bands=HIGH) must say so, not return an unfiltered list.
import { Ajv } from 'ajv';
import formatsPlugin from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

const addFormats = formatsPlugin as unknown as (ajv: Ajv) => Ajv;

export function strictRequestValidation(scope: FastifyInstance): void {
  const ajv = new Ajv({
    coerceTypes: 'array',
    useDefaults: true,
    removeAdditional: false,
    allErrors: false
  });
  addFormats(ajv);
  scope.setValidatorCompiler(({ schema }) => ajv.compile(schema));
}
