// The console's HTTP client: JSON in and out, the session cookie, errors
// as `ApiFailure` with the server's snake_case code, the field at fault and,
// for a message the compliance gate refused, its findings.
import type { ErrorBody, Finding } from './types';

export class ApiFailure extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public field: string | null = null,
    public findings: Finding[] | null = null,
    /** Seconds to wait, when the server said (`Retry-After`). */
    public retryAfter: number | null = null,
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return answer<T>(res);
}

/** POSTs a file as the raw body, its type as `Content-Type`. */
export async function upload<T>(path: string, file: Blob): Promise<T> {
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': file.type || 'application/octet-stream' },
    body: file,
  });
  return answer<T>(res);
}

async function answer<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const e = (data as ErrorBody | undefined)?.error;
    const retry = Number(res.headers?.get?.('retry-after') ?? NaN);
    throw new ApiFailure(
      res.status, e?.code ?? 'internal', e?.message ?? res.statusText, e?.field ?? null, e?.findings ?? null,
      Number.isFinite(retry) ? retry : null,
    );
  }
  return data as T;
}
