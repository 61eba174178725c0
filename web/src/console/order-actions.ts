// Order actions in the console (cancel, refund, change the shipping
// address) and the audit log: which buttons to show, the forms' checks
// and the bodies the API wants. Pure: the components translate the keys.
import type { Address, AuditEntry, Order, OrderActionState } from '../api/types';

export const ACTIONS = ['cancel', 'refund', 'update_shipping_address'] as const;
export type ActionName = (typeof ACTIONS)[number];

export const CANCEL_REASONS = ['customer', 'inventory', 'fraud', 'declined', 'other'] as const;

/**
 * The buttons to show: the actions allowed now. Actions the role forbids
 * are not shown; when the shop connection allows none, its reason is the
 * note shown instead.
 */
export function visibleActions(states: readonly OrderActionState[]): { shown: ActionName[]; note: string | null } {
  const shown = ACTIONS.filter((a) => states.some((s) => s.action === a && s.allowed));
  const unsupported = states.find((s) => s.code === 'not_supported');
  return { shown, note: shown.length === 0 && unsupported ? (unsupported.reason ?? null) : null };
}

/** Digits after the point of a decimal string (`275.01` → 2). */
function decimals(amount: string): number {
  const dot = amount.indexOf('.');
  return dot < 0 ? 0 : amount.length - dot - 1;
}

function toMinor(amount: string, digits: number): number | null {
  const s = amount.trim();
  if (!/^\d+(\.\d+)?$/.test(s) || decimals(s) > digits) return null;
  return Math.round(Number(s) * 10 ** digits);
}

/** What is left to refund of an order, as a decimal string in its currency's digits. */
export function refundableLeft(o: Pick<Order, 'total' | 'refunds'>): string {
  const digits = decimals(o.total);
  const total = toMinor(o.total, digits) ?? 0;
  const refunded = o.refunds.reduce((n, r) => n + (toMinor(r.amount.replace(/^-/, ''), digits) ?? 0), 0);
  const left = Math.max(0, total - refunded);
  return digits === 0 ? String(left) : (left / 10 ** digits).toFixed(digits);
}

/** The message key of what is wrong with a refund amount, or null when it is fine. */
export function amountProblem(amount: string, left: string): string | null {
  const digits = decimals(left);
  const a = toMinor(amount, digits);
  if (a === null || a <= 0) return 'action.refund.amount_invalid';
  if (a > (toMinor(left, digits) ?? 0)) return 'action.refund.amount_too_high';
  return null;
}

export interface RefundForm {
  /** `full` refunds all that is left. */
  mode: 'full' | 'amount';
  amount: string;
  note: string;
  notify: boolean;
}

/** `POST …/refund`'s body. */
export function refundBody(f: RefundForm, conversationId?: number | null) {
  return {
    amount: f.mode === 'amount' ? f.amount.trim() : undefined,
    note: f.note.trim() || undefined,
    notify_customer: f.notify,
    conversation_id: conversationId ?? undefined,
  };
}

export type AddressForm = Required<Address>;

const EMPTY: AddressForm = { name: '', address1: '', address2: '', city: '', province: '', zip: '', country_code: '', phone: '' };

/** The address form, filled with the order's current address. */
export function addressForm(o: Pick<Order, 'shipping_address'>): AddressForm {
  const a = o.shipping_address ?? {};
  const out = { ...EMPTY };
  for (const k of Object.keys(EMPTY) as (keyof AddressForm)[]) out[k] = (a[k] ?? '').toString();
  return out;
}

/** The first field missing or wrong (`name`, `address1`, `city`, `country_code`), or null. */
export function addressProblem(f: AddressForm): keyof AddressForm | null {
  for (const k of ['name', 'address1', 'city'] as const) if (!f[k].trim()) return k;
  if (!/^[A-Za-z]{2}$/.test(f.country_code.trim())) return 'country_code';
  return null;
}

/** `PUT …/shipping_address`'s body: trimmed, the country in capitals. */
export function addressBody(f: AddressForm, conversationId?: number | null) {
  const out: Record<string, string | number> = {};
  for (const k of Object.keys(EMPTY) as (keyof AddressForm)[]) out[k] = f[k].trim();
  out.country_code = String(out.country_code).toUpperCase();
  if (conversationId) out.conversation_id = conversationId;
  return out;
}

/** `POST …/cancel`'s body. */
export function cancelBody(f: { reason: string; notify: boolean; restock: boolean }, conversationId?: number | null) {
  return { reason: f.reason, notify_customer: f.notify, restock: f.restock, conversation_id: conversationId ?? undefined };
}

/** One line of what an audit entry did: `#1002 · reason customer`, `#1003 · 5.00 USD`. */
export function auditSummary(e: Pick<AuditEntry, 'action' | 'details'>): string {
  const d = (e.details ?? {}) as Record<string, unknown>;
  const order = typeof d.order === 'string' ? d.order : '';
  let what = '';
  if (e.action === 'order.cancel' && typeof d.reason === 'string') what = d.reason;
  if (e.action === 'order.refund') what = typeof d.amount === 'string' ? `${d.amount} ${String(d.currency ?? '')}`.trim() : 'full';
  if (e.action === 'order.update_shipping_address') {
    const a = (d.shipping_address ?? {}) as Record<string, unknown>;
    what = [a.city, a.country_code].filter((x) => typeof x === 'string' && x).join(', ');
  }
  return [order, what].filter(Boolean).join(' · ');
}
