// The compliance gate in the composer: findings of the draft as the agent
// types, and the draft split into plain and flagged pieces for the preview.
import type { Finding, Report } from '../api/types';

export type Piece = { text: string; severity: 'warn' | 'block' | null };

/**
 * The text cut at the findings' spans (byte offsets into its UTF-8 form,
 * as the server gives them). Overlapping spans merge; a blocking one wins.
 */
export function pieces(text: string, findings: readonly Finding[]): Piece[] {
  const bytes = new TextEncoder().encode(text);
  const spans = findings
    .filter((f) => f.span && f.location.type === 'text')
    .map((f) => ({ start: Math.max(0, f.span!.start), end: Math.min(bytes.length, f.span!.end), severity: f.severity }))
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start);
  const merged: typeof spans = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s.start <= last.end) {
      last.end = Math.max(last.end, s.end);
      if (s.severity === 'block') last.severity = 'block';
    } else merged.push({ ...s });
  }
  const decode = (a: number, b: number) => new TextDecoder().decode(bytes.subarray(a, b));
  const out: Piece[] = [];
  let at = 0;
  for (const s of merged) {
    if (s.start > at) out.push({ text: decode(at, s.start), severity: null });
    out.push({ text: decode(s.start, s.end), severity: s.severity });
    at = s.end;
  }
  if (at < bytes.length) out.push({ text: decode(at, bytes.length), severity: null });
  return out;
}

/** Whether the report stops the message from being sent. */
export function blocks(report: Report | null): boolean {
  return report?.verdict === 'block';
}

/**
 * Calls `run` once the input has been quiet for `wait` ms; only the answer
 * to the latest call is delivered to `done`, so a slow early answer never
 * overwrites a newer one.
 */
export function debounced<A, R>(run: (arg: A) => Promise<R>, done: (r: R | null, arg: A) => void, wait = 300) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let seq = 0;
  return (arg: A) => {
    clearTimeout(timer);
    const mine = ++seq;
    timer = setTimeout(() => {
      run(arg).then(
        (r) => { if (mine === seq) done(r, arg); },
        () => { if (mine === seq) done(null, arg); },
      );
    }, wait);
  };
}
