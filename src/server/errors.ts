/**
 * The server's one catalogue of API errors (SPEC section 4): every failure leaves as
 * `{"success": false, "error": {"code", "message"}}` with a fitting status. Messages
 * name the field or the thing that is wrong and never echo secrets.
 */
export type ApiErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'internal'
  // SPEC 7.1
  | 'invalid_hostname'
  | 'tags_not_permitted'
  | 'clock_skew';

const STATUS: Record<ApiErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  invalid_hostname: 400,
  tags_not_permitted: 403,
  clock_skew: 400,
};

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;

  constructor(code: ApiErrorCode, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = STATUS[code];
  }
}

export const badRequest = (message: string) => new ApiError('bad_request', message);
export const unauthorized = (message = 'missing or invalid credentials') => new ApiError('unauthorized', message);
export const forbidden = (message = 'that belongs to another organisation') => new ApiError('forbidden', message);
export const notFound = (message: string) => new ApiError('not_found', message);

// Messages may quote what the client sent (an unknown table, a filter value, a path): a key
// or token pasted into the wrong place must not come back in an error (src/shared/secrets.ts).
export { redactSecrets } from '../shared/secrets.ts';

import { redactSecrets } from '../shared/secrets.ts';

export function errorBody(error: ApiError): { success: false; error: { code: ApiErrorCode; message: string } } {
  return { success: false, error: { code: error.code, message: redactSecrets(error.message) } };
}
