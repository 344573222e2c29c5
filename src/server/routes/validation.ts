/** Request validation: the first problem becomes a 400 naming the field. */
import type { z } from 'zod';
import { badRequest } from '../errors.ts';

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('body: expected a JSON object');
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.length ? issue.path.join('.') : 'body';
  throw badRequest(`${path}: ${issue?.message ?? 'invalid value'}`);
}
