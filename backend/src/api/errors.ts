// One error body for every error the app returns: { code, message, details }.
// Routes throw ApiError; validation, rate-limit, overload and unexpected errors are mapped here.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'stable machine code, e.g. not_found, validation_failed' }),
    message: Type.String({ description: 'what went wrong, in plain words' }),
    details: Type.Union(
      [Type.Array(Type.Unknown()), Type.Record(Type.String(), Type.Unknown()), Type.Null()],
      {
        description:
          'validation issues ([{ path, message }]) or other structured context; null when none'
      }
    )
  },
  { $id: 'ErrorBody', description: 'The body of every error response' }
);
export type ErrorBody = Static<typeof ErrorBody>;

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: ErrorBody['details'] = null
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const unauthorized = (message: string) => new ApiError(401, 'unauthorized', message);
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
export const conflict = (message: string, details: ErrorBody['details'] = null) =>
  new ApiError(409, 'conflict', message, details);
export const badRequest = (message: string, details: ErrorBody['details'] = null) =>
  new ApiError(400, 'bad_request', message, details);

/** A validation issue with the part of the request it is in: `querystring/limit`, `body/reason`. */
export interface ValidationIssue {
  path: string;
  message: string;
}

function validationIssues(error: FastifyError): ValidationIssue[] {
  const where = error.validationContext ?? 'request';
  return (error.validation ?? []).map((v) => {
    // Missing and unknown properties are reported on their parent; name the property itself.
    const params = v.params as
      { missingProperty?: string; additionalProperty?: string } | undefined;
    if (params?.additionalProperty) {
      return {
        path: `${where}${v.instancePath}/${params.additionalProperty}`,
        message: 'is not a known property'
      };
    }
    const pointer = params?.missingProperty
      ? `${v.instancePath}/${params.missingProperty}`
      : v.instancePath;
    return { path: `${where}${pointer}`, message: v.message ?? 'is invalid' };
  });
}

const codeForStatus: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable'
};

export function toErrorBody(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof ApiError) {
    return {
      status: error.statusCode,
      body: { code: error.code, message: error.message, details: error.details }
    };
  }
  const e = error as FastifyError;
  if (e.validation) {
    const issues = validationIssues(e);
    const first = issues[0];
    return {
      status: 400,
      body: {
        code: 'validation_failed',
        message: first ? `${first.path} ${first.message}` : 'request is invalid',
        details: issues
      }
    };
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 500 && status !== 503) {
    // Never echo internal messages (SQL, stack details) to clients.
    return {
      status: 500,
      body: { code: 'internal_error', message: 'internal error', details: null }
    };
  }
  return {
    status,
    body: {
      code: codeForStatus[status] ?? 'error',
      message: e.message || 'request failed',
      details: null
    }
  };
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toErrorBody(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: body.code, status }, body.message);
  void reply.status(status).send(body);
}
