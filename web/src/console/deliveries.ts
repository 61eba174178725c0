// Delivery status of outgoing messages (the ticks, a failed message's
// "Send again"), what channels report about a message afterwards
// (reactions, edits, deletions, the quoted message, the ad the buyer came
// from), and the pages of the Failed deliveries list.
import type { components } from '../api/types/openapi';

type S = components['schemas'];
export type Delivery = S['DeliveryStatus'];
export type DeliveryState = Delivery['state'];

export type Tick = { icon: string; tone: 'muted' | 'ok' | 'read' | 'failed'; key: string };

/** The mark an outgoing message shows for its delivery status (none: nothing to show). */
export function tick(d: Delivery | null | undefined): Tick | null {
  switch (d?.state) {
    case 'queued': return { icon: '🕓', tone: 'muted', key: 'delivery.queued' };
    case 'sent': return { icon: '✓', tone: 'ok', key: 'delivery.sent' };
    case 'delivered': return { icon: '✓✓', tone: 'ok', key: 'delivery.delivered' };
    case 'read': return { icon: '✓✓', tone: 'read', key: 'delivery.read' };
    case 'failed': return { icon: '!', tone: 'failed', key: 'delivery.failed' };
    default: return null;
  }
}

// ---------------------------------------------------------------- message meta

export type SenderRef = S['Sender'];
export type Reaction = S['MessageReaction'];
export type Referral = S['Referral'];
export type MessageMeta = S['MessageMeta'];

/** A message as far as these helpers need it. */
export type MessageLike = { id: number; text: string; parts: readonly unknown[]; meta?: MessageMeta | null; delivery?: Delivery | null };

/** The message's meta, empty when it has none. */
export function metaOf(m: { meta?: MessageMeta | null }): MessageMeta {
  return m.meta ?? {};
}

/** Reactions grouped by emoji, first reacted first, with who reacted. */
export function groupReactions(list: readonly Reaction[] | null | undefined): { emoji: string; count: number; by: SenderRef[] }[] {
  const out: { emoji: string; count: number; by: SenderRef[] }[] = [];
  for (const r of [...(list ?? [])].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))) {
    if (!r.emoji) continue;
    const g = out.find((x) => x.emoji === r.emoji);
    if (g) {
      g.count += 1;
      g.by.push(r.by);
    } else out.push({ emoji: r.emoji, count: 1, by: [r.by] });
  }
  return out;
}

/** Shortens a text to `max` characters on one line. */
export function snippet(text: string, max = 80): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1).trimEnd()}…` : line;
}

/** The message `m` answers, when it is among the loaded ones. */
export function quoted<M extends MessageLike>(m: MessageLike, loaded: readonly M[]): M | null {
  const id = metaOf(m).reply_to;
  if (id === undefined || id === null) return null;
  return loaded.find((x) => x.id === id) ?? null;
}

/** True for a message its author deleted. */
export function isDeleted(m: MessageLike): boolean {
  return !!metaOf(m).deleted_at;
}

// ---------------------------------------------------------------- failed deliveries

export type DeliveryPage<M = S['MessageView']> = { items: M[]; next_before?: number | null };

/** The query of one page of failed deliveries, older than `before` when given. */
export function deliveriesQuery(before: number | null | undefined, limit = 50): string {
  const p = new URLSearchParams({ state: 'failed', limit: String(limit) });
  if (before !== undefined && before !== null) p.set('before', String(before));
  return p.toString();
}

/** Adds a page to the rows already shown, without repeating any. */
export function appendPage<M extends { id: number }>(rows: readonly M[], page: DeliveryPage<M>): M[] {
  const seen = new Set(rows.map((r) => r.id));
  return [...rows, ...page.items.filter((m) => !seen.has(m.id))];
}

/** Replaces a message in a list by id (after a retry or a status change). */
export function replaceMessage<M extends { id: number }>(rows: readonly M[], m: M): M[] {
  return rows.map((r) => (r.id === m.id ? m : r));
}
