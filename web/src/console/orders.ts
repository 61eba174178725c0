// Orders of the shop mirror as the console shows them: state badges,
// money, line summaries, shipments and their delivery promise. Pure: the
// components translate the `{ key, vars }` these return.
import type { Fulfillment, Order, OrderLine } from '../api/types';

export const ORDER_STATES = ['pending', 'paid', 'partially_shipped', 'shipped', 'delivered', 'cancelled', 'refunded'] as const;
export type OrderState = (typeof ORDER_STATES)[number];

export type Tone = 'wait' | 'info' | 'progress' | 'good' | 'off' | 'bad' | 'neutral';

const TONES: Record<OrderState, Tone> = {
  pending: 'wait',
  paid: 'info',
  partially_shipped: 'progress',
  shipped: 'progress',
  delivered: 'good',
  cancelled: 'off',
  refunded: 'bad',
};

export interface Badge {
  /** The message key of the label, or null for a state the console does not know. */
  key: string | null;
  /** The shop's own word, shown when there is no key. */
  raw: string;
  tone: Tone;
}

/** The coloured badge of an order's state; unknown states get a neutral badge with their own words. */
export function stateBadge(state: string): Badge {
  const known = (ORDER_STATES as readonly string[]).includes(state);
  return known
    ? { key: `order.state.${state}`, raw: state, tone: TONES[state as OrderState] }
    : { key: null, raw: humanize(state), tone: 'neutral' };
}

/** `in_transit` → `in transit`. */
export function humanize(word: string | null | undefined): string {
  return (word ?? '').replace(/_/g, ' ').trim();
}

/** Newest first, by when they were placed (then by id), without touching the input. */
export function newestFirst<T extends Pick<Order, 'created_at' | 'id'>>(orders: readonly T[]): T[] {
  return [...orders].sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id);
}

/** A decimal string in a currency, e.g. `€49.90`; the plain text when the amount or currency is odd. */
export function money(amount: string, currency: string, locale = 'en'): string {
  const n = Number(amount);
  if (!amount.trim() || !Number.isFinite(n)) return `${amount} ${currency}`.trim();
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(n);
  } catch {
    return `${amount} ${currency}`.trim();
  }
}

/** `Linen shirt × 2 (M / Blue)`. */
export function lineText(l: Pick<OrderLine, 'title' | 'quantity' | 'variant_title'>): string {
  const variant = l.variant_title?.trim();
  return `${l.title} × ${l.quantity}${variant ? ` (${variant})` : ''}`;
}

/** How many pieces an order has. */
export function itemCount(o: Pick<Order, 'line_items'>): number {
  return o.line_items.reduce((n, l) => n + Math.max(0, l.quantity), 0);
}

/** One line for lists: `#1001 · Linen shirt × 2, Cap × 1` (the first lines, then `+N`). */
export function orderSummary(o: Pick<Order, 'name' | 'line_items'>, maxLines = 2): string {
  const lines = o.line_items.slice(0, maxLines).map(lineText);
  const rest = o.line_items.length - lines.length;
  const items = lines.join(', ') + (rest > 0 ? ` +${rest}` : '');
  return items ? `${o.name} · ${items}` : o.name;
}

/** A date in the agent's language, e.g. `12 Mar 2026` / `2026年3月12日`. */
export function shortDate(iso: string, locale = 'en', timeZone?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(locale === 'zh' ? 'zh-CN' : locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone }).format(d);
}

/** The calendar day of an instant in a zone, as a comparable day number. */
function dayNumber(t: number, timeZone?: string): number {
  const parts = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone }).format(new Date(t));
  return Math.round(Date.parse(`${parts}T00:00:00Z`) / 86400000);
}

export interface Phrase {
  key: string;
  vars: Record<string, string | number>;
}

/**
 * The delivery promise of a shipment: when the carrier said it would
 * arrive, against today in the agent's zone; null when there is none or it
 * has arrived.
 */
export function deliveryPromise(
  f: Pick<Fulfillment, 'estimated_delivery_at' | 'shipment_status' | 'status'>,
  now: number = Date.now(),
  locale = 'en',
  timeZone?: string,
): Phrase | null {
  if (!f.estimated_delivery_at || f.shipment_status === 'delivered' || f.status === 'cancelled') return null;
  const at = Date.parse(f.estimated_delivery_at);
  if (Number.isNaN(at)) return null;
  const days = dayNumber(at, timeZone) - dayNumber(now, timeZone);
  const date = shortDate(f.estimated_delivery_at, locale, timeZone);
  if (days < 0) return { key: 'order.promise_late', vars: { date, days: -days } };
  if (days === 0) return { key: 'order.promise_today', vars: { date } };
  if (days === 1) return { key: 'order.promise_tomorrow', vars: { date } };
  return { key: 'order.promise_by', vars: { date, days } };
}

const SHIPMENT_STATUSES = ['label_printed', 'label_purchased', 'confirmed', 'in_transit', 'out_for_delivery', 'attempted_delivery', 'ready_for_pickup', 'delivered', 'failure'];

/** The carrier's latest event as a phrase (a known key, or the shop's words). */
export function shipmentPhrase(f: Pick<Fulfillment, 'shipment_status' | 'status'>): Phrase | null {
  const s = f.shipment_status ?? (f.status === 'cancelled' || f.status === 'failure' || f.status === 'error' ? f.status : null);
  if (!s) return null;
  if (SHIPMENT_STATUSES.includes(s) || s === 'cancelled' || s === 'error') return { key: `order.shipment.${s}`, vars: {} };
  return { key: 'order.shipment.other', vars: { status: humanize(s) } };
}

/** Only http(s) tracking links are rendered as links. */
export function safeUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

/** The optional fields of the shop form as the API wants them: blanks left out. */
export function shopBody(f: {
  name: string; shop_domain: string; secret: string; api_url: string; access_token: string; platform?: string;
}) {
  const opt = (s: string) => (s.trim() ? s.trim() : undefined);
  const domain = f.shop_domain.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (f.platform === 'import') return { name: f.name.trim(), shop_domain: domain, platform: 'import' };
  return {
    name: f.name.trim(),
    shop_domain: domain,
    secret: opt(f.secret),
    api_url: opt(f.api_url),
    access_token: opt(f.access_token),
  };
}

/** The query of a file import: what the file holds, how to read it, and defaults for rows that leave them out. */
export function importQuery(o: { kind: string; fileName: string; currency: string; dryRun: boolean }): string {
  const q = new URLSearchParams({ kind: o.kind });
  const ext = o.fileName.toLowerCase().split('.').pop() ?? '';
  if (ext === 'csv') q.set('format', 'csv');
  else if (['json', 'jsonl', 'ndjson'].includes(ext)) q.set('format', 'json');
  const currency = o.currency.trim().toUpperCase();
  if (/^[A-Z]{3}$/.test(currency)) q.set('currency', currency);
  if (o.dryRun) q.set('dry_run', 'true');
  return q.toString();
}

/** A rejected row as one line: `line 4 (#1002) · quantity "two": must be a whole number from 1`. */
export function rejectedLine(r: { line: number; key?: string | null; column?: string | null; value?: string | null; reason: string }): string {
  let s = `line ${r.line}`;
  if (r.key) s += ` (${r.key})`;
  s += ' · ';
  if (r.column && r.value != null) s += `${r.column} "${r.value}": `;
  else if (r.column && !r.reason.includes(r.column)) s += `${r.column}: `;
  return s + r.reason;
}
