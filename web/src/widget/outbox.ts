// The widget's message list: server messages merged with the visitor's
// unsent ones (kept across page loads and resent after reconnecting).
import type { VisitorMessage } from '../api/types';

export interface Pending {
  client_id: string;
  text: string;
  created_at: string;
}

export interface Shown {
  key: string;
  mine: boolean;
  text: string;
  parts: VisitorMessage['parts'];
  pending: boolean;
  author: string;
}

/** Adds or replaces a server message (by id), keeping id order. */
export function mergeMessage(list: VisitorMessage[], m: VisitorMessage): VisitorMessage[] {
  const out = list.filter((x) => x.id !== m.id);
  out.push(m);
  return out.sort((a, b) => a.id - b.id);
}

/**
 * The list after catching up with the server: the server's messages, plus
 * any that arrived live after the server answered (newer than all of its).
 */
export function caughtUp(live: VisitorMessage[], server: VisitorMessage[]): VisitorMessage[] {
  const newest = server.reduce((max, m) => Math.max(max, m.id), 0);
  return live.filter((m) => m.id > newest).reduce(mergeMessage, [...server].sort((a, b) => a.id - b.id));
}

/** Replies in `server` the widget had not shown yet (missed while away). */
export function missedReplies(seen: Set<number>, server: VisitorMessage[]): VisitorMessage[] {
  return server.filter((m) => m.kind === 'outgoing' && !seen.has(m.id));
}

/** Pending messages the server has not confirmed yet. */
export function stillPending(pending: Pending[], server: VisitorMessage[]): Pending[] {
  const confirmed = new Set(server.map((m) => m.client_id).filter(Boolean));
  return pending.filter((p) => !confirmed.has(p.client_id));
}

/** What the widget shows: confirmed messages, then unsent ones. */
export function view(server: VisitorMessage[], pending: Pending[]): Shown[] {
  return [
    ...server.map((m) => ({ key: `m${m.id}`, mine: m.kind === 'incoming', text: m.text, parts: m.parts, pending: false, author: m.author })),
    ...stillPending(pending, server).map((p) => ({
      key: `p${p.client_id}`, mine: true, text: p.text, parts: [{ type: 'text' as const, text: p.text }], pending: true, author: 'visitor',
    })),
  ];
}

export function newClientId(): string {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Longest text the server takes, in UTF-8 bytes. */
export const MAX_TEXT_BYTES = 16 * 1024;

/** Whether `text` is too long to send. */
export function tooLong(text: string): boolean {
  return new TextEncoder().encode(text).length > MAX_TEXT_BYTES;
}

/** What a refused send means for the visitor: the message key to show, and
 * whether to keep the message for a later retry (the network, the server
 * or a rate limit) or drop it (it can never be taken as it is). */
export function sendFailure(status: number | null): { key: string; retry: boolean } {
  if (status === null || status >= 500) return { key: 'reconnecting', retry: true };
  if (status === 429) return { key: 'too_fast', retry: true };
  if (status === 413 || status === 422) return { key: 'too_long', retry: false };
  return { key: 'not_sent', retry: false };
}

/** What a refused e-mail means for the visitor (409: it is another customer's). */
export function emailFailure(status: number | null): string {
  if (status === 409) return 'email_taken';
  if (status === 422) return 'email_invalid';
  return 'email_failed';
}
