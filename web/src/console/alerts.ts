// The commerce detectors' alerts as the console shows them: the facts of
// each kind (SKU, stock, demand, order, days late, carrier statistics), the
// order of the list, and who may do what. Pure: the components translate
// the `{ key, vars }` these return.
import type { Alert } from '../api/types';

export const ALERT_KINDS = ['out_of_stock', 'low_stock', 'late_order', 'carrier_delay', 'defect_rate', 'webhook_disabled'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;

/** One translated line of an alert's details. */
export interface Fact {
  key: string;
  vars: Record<string, string | number>;
}

type Details = Record<string, unknown>;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.trim() ? v : null;
}

/** `0.8` → `80%`. */
export function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** The lines that explain an alert; missing numbers are left out, never shown as blanks. */
export function alertFacts(a: Pick<Alert, 'kind' | 'details'>): Fact[] {
  const d = (a.details ?? {}) as Details;
  const facts: Fact[] = [];
  const push = (key: string, vars: Record<string, string | number | null>) => {
    if (Object.values(vars).every((v) => v !== null)) facts.push({ key, vars: vars as Record<string, string | number> });
  };
  switch (a.kind) {
    case 'out_of_stock':
    case 'low_stock': {
      const sku = [str(d.sku) ?? '—', str(d.product_title), str(d.variant_title)].filter(Boolean).join(' · ');
      push('alerts.fact.sku', { sku });
      push('alerts.fact.stock', { stock: num(d.stock) });
      if (a.kind === 'out_of_stock') push('alerts.fact.demand', { count: num(d.open_conversations) });
      else {
        push('alerts.fact.sold', { units: num(d.units_sold), days: num(d.window_days), rate: num(d.daily_rate) });
        push('alerts.fact.cover', { days: num(d.days_of_cover) });
      }
      break;
    }
    case 'late_order': {
      push('alerts.fact.order', { order: str(d.order_name) ?? str(d.order_number) });
      push(d.reason === 'not_shipped' ? 'alerts.fact.not_shipped' : 'alerts.fact.overdue', { days: num(d.days_late) });
      if (str(d.carrier)) push('alerts.fact.shipment', { carrier: str(d.carrier), tracking: str(d.tracking_number) ?? '—' });
      if (str(d.country)) push('alerts.fact.country', { country: str(d.country) });
      break;
    }
    case 'carrier_delay': {
      const share = num(d.late_share);
      const others = num(d.others_late_share);
      push('alerts.fact.route', { carrier: str(d.carrier), country: str(d.country) });
      push('alerts.fact.late_share', {
        late: num(d.late), shipments: num(d.shipments),
        share: share === null ? null : percent(share), others: others === null ? null : percent(others),
      });
      push('alerts.fact.transit', { days: num(d.median_transit_days) });
      break;
    }
    case 'defect_rate': {
      const recent = num(d.recent_rate);
      const before = num(d.baseline_rate);
      push('alerts.fact.sku', { sku: str(d.sku) ?? '—' });
      push('alerts.fact.defects', {
        defects: num(d.recent_defects), orders: num(d.recent_orders), days: num(d.recent_days),
        rate: recent === null ? null : percent(recent),
      });
      push('alerts.fact.defects_before', {
        defects: num(d.baseline_defects), orders: num(d.baseline_orders), days: num(d.baseline_days),
        rate: before === null ? null : percent(before),
      });
      break;
    }
    case 'webhook_disabled':
      push('alerts.fact.webhook_url', { url: str(d.url) });
      push('alerts.fact.webhook_failures', { failures: num(d.consecutive_failures) });
      break;
  }
  return facts;
}

/** The alert's headline in the agent's language, from its details; `null`
 * when they are missing (the server's English title is shown then). */
export function alertTitle(a: Pick<Alert, 'kind' | 'details'>): Fact | null {
  const d = (a.details ?? {}) as Details;
  const item = [str(d.product_title), str(d.variant_title)].filter(Boolean).join(' · ') || str(d.sku);
  const fact = (key: string, vars: Record<string, string | number | null | undefined>): Fact | null =>
    Object.values(vars).every((v) => v !== null && v !== undefined) ? { key, vars: vars as Record<string, string | number> } : null;
  switch (a.kind) {
    case 'out_of_stock':
      return fact('alerts.headline.out_of_stock', { item });
    case 'low_stock':
      return fact('alerts.headline.low_stock', { item, days: num(d.days_of_cover) });
    case 'late_order':
      return fact(d.reason === 'not_shipped' ? 'alerts.headline.not_shipped' : 'alerts.headline.overdue', {
        order: str(d.order_name) ?? str(d.order_number), days: num(d.days_late),
      });
    case 'carrier_delay':
      return fact('alerts.headline.carrier_delay', { carrier: str(d.carrier), country: str(d.country) });
    case 'defect_rate': {
      const rate = num(d.recent_rate);
      return fact('alerts.headline.defect_rate', { sku: str(d.sku), rate: rate === null ? null : percent(rate) });
    }
    case 'webhook_disabled':
      return fact('alerts.headline.webhook_disabled', { id: num(d.webhook_id) });
  }
  return null;
}

/** The SKU whose product feedback a defect-rate alert links to, if any. */
export function alertSku(a: Pick<Alert, 'kind' | 'details'>): string | null {
  if (a.kind !== 'defect_rate') return null;
  return str(((a.details ?? {}) as Details).sku);
}

/** The order number an alert is about (for opening the order), if any. */
export function alertOrder(a: Pick<Alert, 'kind' | 'details'>): string | null {
  if (a.kind !== 'late_order') return null;
  const d = (a.details ?? {}) as Details;
  return str(d.order_name) ?? str(d.order_number);
}

const SEVERITY: Record<string, number> = { critical: 0, warning: 1 };
const STATUS: Record<string, number> = { open: 0, acknowledged: 1, resolved: 2 };

/** Open before acknowledged before resolved; critical first; newest first. */
export function sortAlerts(list: readonly Alert[]): Alert[] {
  return [...list].sort(
    (a, b) =>
      (STATUS[a.status] ?? 3) - (STATUS[b.status] ?? 3) ||
      (SEVERITY[a.severity] ?? 2) - (SEVERITY[b.severity] ?? 2) ||
      b.first_seen_at.localeCompare(a.first_seen_at) ||
      b.id - a.id,
  );
}

/** How many alerts still need someone (the nav badge). */
export function openCount(list: readonly Pick<Alert, 'status'>[]): number {
  return list.filter((a) => a.status === 'open').length;
}

/** What a user may do with an alert: everyone acknowledges an open one; owners and admins resolve. */
export function alertActions(a: Pick<Alert, 'status'>, role: string | undefined): { acknowledge: boolean; resolve: boolean } {
  const admin = role === 'owner' || role === 'admin';
  return { acknowledge: a.status === 'open', resolve: admin && a.status !== 'resolved' };
}

/** The query string of the list for a status tab (`all`: every status). */
export function alertQuery(status: string): string {
  return (ALERT_STATUSES as readonly string[]).includes(status) ? `?status=${status}` : '';
}
