// Usage metering for owners and admins: the months of a range, the query
// of the usage API, the table's rows and the chart's series.
import type { components } from '../api/types/openapi';
import type { Series } from './reports';

export type MonthUsage = components['schemas']['MonthUsageView'];
export type UsageView = components['schemas']['UsageView'];

/** `YYYY-MM` of a date (UTC, as the server counts months). */
export function monthOf(d: Date): string {
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The month `n` months before `month` (`YYYY-MM`). */
export function monthsBefore(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number);
  const index = y * 12 + (m - 1) - n;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** The API path of the last `count` months up to `last`. */
export function usageUrl(account: string, last: string, count: number): string {
  const first = monthsBefore(last, Math.max(1, Math.min(24, count)) - 1);
  const q = new URLSearchParams({ month: first, to: last });
  return `${account}/usage?${q}`;
}

/** Every channel that appears in any month, sorted. */
export function channelsOf(months: readonly MonthUsage[]): string[] {
  return [...new Set(months.flatMap((m) => m.channels.map((c) => c.channel)))].sort();
}

/** A month's incoming and outgoing messages on one channel (0 when none). */
export function channelCell(m: MonthUsage, channel: string): { incoming: number; outgoing: number } {
  const c = m.channels.find((x) => x.channel === channel);
  return { incoming: c?.incoming ?? 0, outgoing: c?.outgoing ?? 0 };
}

/** The chart: active contacts, conversations, messages in and out per month. */
export function usageSeries(months: readonly MonthUsage[]): Series {
  return {
    labels: months.map((m) => m.month),
    series: [
      { name: 'active_contacts', values: months.map((m) => m.active_contacts) },
      { name: 'conversations_opened', values: months.map((m) => m.conversations_opened) },
      { name: 'messages_in', values: months.map((m) => m.messages_in) },
      { name: 'messages_out', values: months.map((m) => m.messages_out) },
    ],
  };
}

/** Totals over the months. */
export function totals(months: readonly MonthUsage[]): Omit<MonthUsage, 'month' | 'channels'> {
  const sum = (f: (m: MonthUsage) => number) => months.reduce((n, m) => n + f(m), 0);
  return {
    active_contacts: sum((m) => m.active_contacts),
    conversations_opened: sum((m) => m.conversations_opened),
    messages_in: sum((m) => m.messages_in),
    messages_out: sum((m) => m.messages_out),
    bot_resolutions: sum((m) => m.bot_resolutions),
  };
}
