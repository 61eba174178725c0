// The Product feedback page's logic, kept out of the component so it is
// tested: the URLs of the list, a SKU and their CSV, the weekly series a
// chart draws, the trend of a SKU's last weeks, how rates read, and the
// defect rules as people type them.
import type { ProductLine, ProductWeek } from '../api/types';
import type { Series } from './reports';

export interface ProductParams {
  /** First local day, `YYYY-MM-DD` (empty: 29 days before `until`). */
  from: string;
  /** Last local day (empty: today in the account's time zone). */
  until: string;
}

function query(p: ProductParams, extra: Record<string, string | null>): string {
  const q = new URLSearchParams();
  if (p.from) q.set('from', p.from);
  if (p.until) q.set('until', p.until);
  for (const [k, v] of Object.entries(extra)) if (v !== null) q.set(k, v);
  return q.toString();
}

/** The list of SKUs under the account, a page of it or all as CSV. */
export function productsUrl(account: string, p: ProductParams, page: { limit: number; offset: number } | null, csv = false): string {
  return `${account}/insights/products?${query(p, {
    limit: page && !csv ? String(page.limit) : null,
    offset: page && !csv && page.offset ? String(page.offset) : null,
    format: csv ? 'csv' : null,
  })}`;
}

/** One SKU (its weeks as CSV with `csv`). */
export function productUrl(account: string, sku: string, p: ProductParams, csv = false): string {
  return `${account}/insights/products/${encodeURIComponent(sku)}?${query(p, { format: csv ? 'csv' : null })}`;
}

/** Defect conversations, conversations and orders per week. */
export function weeklySeries(weeks: ProductWeek[]): Series {
  return {
    labels: weeks.map((w) => w.week),
    series: [
      { name: 'defect_conversations', values: weeks.map((w) => w.defect_conversations) },
      { name: 'conversations', values: weeks.map((w) => w.conversations) },
      { name: 'orders', values: weeks.map((w) => w.orders) },
    ],
  };
}

/** Whether the last week's defect rate is above (`up`), below (`down`) or
 * like (`flat`) the mean of the weeks before it; `null` without two weeks
 * with orders. */
export function trend(weeks: ProductWeek[]): 'up' | 'down' | 'flat' | null {
  const rated = weeks.filter((w) => w.defect_rate !== null && w.defect_rate !== undefined);
  if (rated.length < 2) return null;
  const last = rated[rated.length - 1].defect_rate as number;
  const before = rated.slice(0, -1);
  const mean = before.reduce((n, w) => n + (w.defect_rate as number), 0) / before.length;
  if (Math.abs(last - mean) < 0.005) return 'flat';
  return last > mean ? 'up' : 'down';
}

/** The defect conversations of each week, as a short bar line (`▁▃█`). */
export function sparkline(weeks: ProductWeek[]): string {
  const bars = '▁▂▃▄▅▆▇█';
  const max = Math.max(0, ...weeks.map((w) => w.defect_conversations));
  return weeks.map((w) => (max === 0 ? bars[0] : bars[Math.round((w.defect_conversations / max) * (bars.length - 1))])).join('');
}

/** A rate as a percentage with one decimal (`12.5 %`); `–` when none. */
export function ratePercent(r: number | null | undefined): string {
  return r === null || r === undefined ? '–' : `${Math.round(r * 1000) / 10} %`;
}

/** Names typed as a list (commas, new lines), trimmed, lower case, without repeats. */
export function parseNames(text: string): string[] {
  const out: string[] = [];
  for (const n of text.split(/[,\n，、]/)) {
    const v = n.trim().toLowerCase();
    if (v && !out.includes(v)) out.push(v);
  }
  return out;
}

/** The line with the most defect conversations, to open first. */
export function firstSku(lines: ProductLine[], wanted: string | null): string | null {
  if (wanted) return wanted;
  return lines[0]?.sku ?? null;
}
