/**
 * The dashboard's only way to the server: the admin API, authenticated by the session
 * cookie. Every request that is not a GET carries the session's CSRF token in
 * `X-ZTNA-CSRF` (the server refuses cookie-authenticated writes without it).
 */
import type { ImpactPreview, SessionInfo } from './types.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

let csrfToken: string | null = null;
const signedOutListeners: Array<(message: string) => void> = [];

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when any request finds the session gone (401). */
export function onSignedOut(listener: (message: string) => void): void {
  signedOutListeners.push(listener);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-ztna-csrf'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, { method, headers, credentials: 'same-origin', cache: 'no-store', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch {
    throw new ApiError(0, 'network', 'the server cannot be reached; check that ztna-server is running');
  }
  const parsed: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
    const failure = new ApiError(response.status, error?.code ?? 'http_error', error?.message ?? `HTTP ${response.status}`);
    if (response.status === 401 && path !== '/api/session') for (const listener of signedOutListeners) listener(failure.message);
    throw failure;
  }
  return parsed as T;
}

/** `GET /api/db/<table>?<query>` → rows. */
export async function rows<T>(table: string, query: Record<string, string> = {}): Promise<T[]> {
  const search = new URLSearchParams(query).toString();
  const result = await api<{ data: T[] }>('GET', `/api/db/${table}${search ? `?${search}` : ''}`);
  return result.data;
}

export async function patchRows<T>(table: string, filters: Record<string, string>, fields: Record<string, unknown>): Promise<T[]> {
  const result = await api<{ data: T[] }>('PATCH', `/api/db/${table}`, { _filters: filters, ...fields });
  return result.data;
}

export async function session(): Promise<SessionInfo> {
  return (await api<{ data: SessionInfo }>('GET', '/api/session')).data;
}

export async function redeemLoginLink(token: string): Promise<SessionInfo> {
  return (await api<{ data: SessionInfo }>('POST', '/api/session', { token })).data;
}

export async function signOut(): Promise<void> {
  await api('DELETE', '/api/session');
}

export async function impact(proposal: { mode?: string; policies?: unknown[] }): Promise<ImpactPreview> {
  return api<ImpactPreview>('POST', '/api/posture/impact', proposal);
}
